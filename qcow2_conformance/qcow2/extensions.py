"""Header extensions: the area between the header and the backing file name
(or the end of the first cluster)."""

import struct
from dataclasses import dataclass, field

from . import header as hdr
from .errors import at

END = 0x00000000
BACKING_FORMAT = 0xE2792ACA
FEATURE_TABLE = 0x6803F857
BITMAPS = 0x23852875
CRYPTO_HEADER = 0x0537BE77
DATA_FILE = 0x44415441

EXT_HEADER = struct.Struct(">II")
FEATURE = struct.Struct(">BB46s")
BITMAPS_EXT = struct.Struct(">IIQQ")
CRYPTO_EXT = struct.Struct(">QQ")

# qemu keeps the backing format in a 16 byte buffer, NUL included.
MAX_BACKING_FORMAT = 15
FEATURE_TYPES = 3  # incompatible, compatible, autoclear
MAX_BITMAPS = 65535
# qemu's QCOW2_MAX_BITMAP_DIRECTORY_SIZE: 1 KiB per bitmap, just under 64 MiB.
MAX_BITMAP_DIRECTORY_SIZE = 1024 * MAX_BITMAPS


@dataclass(frozen=True)
class BitmapsExtension:
    nb_bitmaps: int
    directory_size: int
    directory_offset: int
    offset: int  # of the extension header, for error messages


@dataclass
class Extensions:
    # (type, offset of the extension header, data length) in file order.
    items: list = field(default_factory=list)
    backing_format: str | None = None
    feature_names: dict = field(default_factory=dict)
    data_file: str | None = None
    bitmaps: BitmapsExtension | None = None
    # True when a bitmaps extension exists but the autoclear bit is clear:
    # some program without bitmap support wrote the image, so qemu
    # ignores every bitmap, and so do we.
    bitmaps_stale: bool = False
    crypto_header: tuple | None = None  # (offset, length)


def parse(h, buf, file_size):
    """Parse the extension area of the first cluster held in buf."""
    exts = Extensions()
    end = h.backing_file_offset or h.cluster_size
    pos = h.header_length
    seen = set()

    while pos < end:
        if pos + EXT_HEADER.size > end:
            raise at(
                "header extension",
                pos,
                f"needs {EXT_HEADER.size} bytes but the extension area ends at {end:#x}",
            )
        if pos + EXT_HEADER.size > len(buf):
            raise at(
                "header extension", pos, f"extends past the end of the file ({file_size} bytes)"
            )
        etype, length = EXT_HEADER.unpack_from(buf, pos)
        start = pos + EXT_HEADER.size
        name = f"header extension {etype:#010x}"
        if length > end - start:
            raise at(name, pos, f"length {length} exceeds the extension area (ends at {end:#x})")
        if start + length > len(buf):
            raise at(
                name, pos, f"length {length} extends past the end of the file ({file_size} bytes)"
            )
        if etype == END:
            break
        if etype in seen:
            raise at(name, pos, "extension appears more than once")
        seen.add(etype)
        exts.items.append((etype, pos, length))
        _parse_one(h, exts, etype, bytes(buf[start : start + length]), pos, file_size)
        pos = start + (length + 7) // 8 * 8

    if h.autoclear_features & hdr.AUTOCLEAR_BITMAPS and exts.bitmaps is None:
        raise at("autoclear_features", 88, "bitmaps bit set without a bitmaps extension")
    return exts


def _parse_one(h, exts, etype, data, pos, file_size):
    if etype == BACKING_FORMAT:
        if len(data) > MAX_BACKING_FORMAT:
            raise at(
                "backing format extension", pos, f"length {len(data)} exceeds {MAX_BACKING_FORMAT}"
            )
        exts.backing_format = _decode(data)
    elif etype == FEATURE_TABLE:
        exts.feature_names = _feature_table(data, pos)
    elif etype == DATA_FILE:
        exts.data_file = _decode(data)
    elif etype == BITMAPS:
        _bitmaps(h, exts, data, pos, file_size)
    elif etype == CRYPTO_HEADER:
        exts.crypto_header = _crypto_header(h, data, pos, file_size)


def _decode(data):
    return data.decode("utf-8", "surrogateescape")


def _feature_table(data, pos):
    what = "feature name table"
    if len(data) % FEATURE.size:
        raise at(what, pos, f"length {len(data)} is not a multiple of {FEATURE.size}")
    names = {}
    for i in range(len(data) // FEATURE.size):
        ftype, bit, raw = FEATURE.unpack_from(data, i * FEATURE.size)
        where = pos + EXT_HEADER.size + i * FEATURE.size
        if ftype >= FEATURE_TYPES:
            raise at(f"feature name table entry {i}", where, f"type {ftype} is invalid")
        if bit > 63:
            raise at(f"feature name table entry {i}", where + 1, f"bit {bit} is invalid")
        names[(ftype, bit)] = _decode(raw.split(b"\0", 1)[0])
    return names


def _bitmaps(h, exts, data, pos, file_size):
    what = "bitmaps extension"
    if len(data) != BITMAPS_EXT.size:
        raise at(what, pos, f"length {len(data)} is not {BITMAPS_EXT.size}")
    if not h.autoclear_features & hdr.AUTOCLEAR_BITMAPS:
        exts.bitmaps_stale = True
        return

    nb, reserved, size, offset = BITMAPS_EXT.unpack(data)
    base = pos + EXT_HEADER.size
    if reserved:
        raise at(what, base + 4, f"reserved field {reserved:#x} is not zero")
    if not 1 <= nb <= MAX_BITMAPS:
        raise at(what, base, f"nb_bitmaps {nb} is outside 1..{MAX_BITMAPS}")
    if not 1 <= size <= MAX_BITMAP_DIRECTORY_SIZE:
        raise at(
            what,
            base + 8,
            f"bitmap_directory_size {size} is outside 1..{MAX_BITMAP_DIRECTORY_SIZE}",
        )
    if offset % h.cluster_size or offset == 0:
        raise at(
            what,
            base + 16,
            f"bitmap_directory_offset {offset:#x} is not a non-zero "
            f"multiple of the cluster size {h.cluster_size}",
        )
    if offset + size > file_size:
        raise at(
            what,
            base + 16,
            f"bitmap directory at {offset:#x} ({size} bytes) extends "
            f"past the end of the file ({file_size} bytes)",
        )
    exts.bitmaps = BitmapsExtension(nb, size, offset, pos)


def _crypto_header(h, data, pos, file_size):
    what = "crypto header extension"
    if h.crypt_method != 2:
        raise at(what, pos, "present but crypt_method is not LUKS")
    if len(data) != CRYPTO_EXT.size:
        raise at(what, pos, f"length {len(data)} is not {CRYPTO_EXT.size}")
    offset, length = CRYPTO_EXT.unpack(data)
    if offset % h.cluster_size or offset == 0:
        raise at(
            what,
            pos + EXT_HEADER.size,
            f"offset {offset:#x} is not a non-zero multiple of the cluster size {h.cluster_size}",
        )
    if offset + length > file_size:
        raise at(
            what,
            pos + EXT_HEADER.size,
            f"encryption header at {offset:#x} ({length} bytes) "
            f"extends past the end of the file ({file_size} bytes)",
        )
    return offset, length
