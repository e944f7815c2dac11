"""Persistent dirty bitmaps: the bitmap directory."""

import struct
from dataclasses import dataclass

from .errors import at

ENTRY = struct.Struct(">QIIBBHI")

FLAG_IN_USE = 1 << 0
FLAG_AUTO = 1 << 1
# qemu treats bit 2 (extra_data_compatible) as reserved too, since it
# supports no extra data at all.
FLAGS_RESERVED = 0xFFFFFFFC
TYPE_DIRTY_TRACKING = 1
MIN_GRANULARITY_BITS = 9
MAX_GRANULARITY_BITS = 31
MAX_NAME_SIZE = 1023
# qemu's limits: they bound the table and the bitmap data we may read.
MAX_TABLE_SIZE = 0x8000000
MAX_PHYS_SIZE = 0x20000000


@dataclass(frozen=True)
class Bitmap:
    name: str
    name_bytes: bytes
    flags: int
    in_use: bool
    auto: bool
    granularity_bits: int
    granularity: int
    type: int
    table_offset: int
    table_size: int
    directory_offset: int


def expected_table_size(virtual_size, granularity_bits, cluster_size):
    """Bitmap table entries qemu uses for a bitmap of this disk size."""
    bits = -(-virtual_size >> granularity_bits)
    data_bytes = -(-bits // 8)
    return -(-data_bytes // cluster_size)


def parse_directory(buf, directory_offset, nb_bitmaps, h, file_size):
    """Parse a bitmap directory held entirely in buf."""
    bitmaps = []
    names = set()
    expected = {}
    cluster_size = h.cluster_size
    buf_size = len(buf)
    unpack_from = ENTRY.unpack_from
    pos = 0
    while pos < buf_size:
        if len(bitmaps) >= nb_bitmaps or pos + ENTRY.size > buf_size:
            _entry_error(buf, pos, directory_offset, len(bitmaps), nb_bitmaps, h, file_size, names)
        (table_offset, table_size, flags, btype, granularity_bits, name_size, extra_data_size) = (
            unpack_from(buf, pos)
        )
        end = pos + ENTRY.size + name_size
        size = (ENTRY.size + name_size + 7) & ~7
        name_bytes = buf[pos + ENTRY.size : end]

        # One cheap test for the common, valid case; the slow path finds
        # out what is wrong and says so.
        if granularity_bits not in expected:
            expected[granularity_bits] = expected_table_size(h.size, granularity_bits, cluster_size)
        if (
            extra_data_size
            or not 0 < name_size <= MAX_NAME_SIZE
            or pos + size > buf_size
            or flags & FLAGS_RESERVED
            or btype != TYPE_DIRTY_TRACKING
            or not MIN_GRANULARITY_BITS <= granularity_bits <= MAX_GRANULARITY_BITS
            or (table_size != expected[granularity_bits] and not flags & FLAG_IN_USE)
            or not table_size
            or not table_offset
            or table_offset % cluster_size
            or table_size * cluster_size > MAX_PHYS_SIZE
            or table_offset + table_size * 8 > file_size
            or name_bytes in names
            or (end & 7 and any(buf[end : pos + size]))
        ):
            _entry_error(buf, pos, directory_offset, len(bitmaps), nb_bitmaps, h, file_size, names)

        names.add(name_bytes)
        bitmaps.append(
            _new_bitmap(
                name_bytes,
                flags,
                btype,
                granularity_bits,
                table_offset,
                table_size,
                directory_offset + pos,
            )
        )
        pos += size

    if len(bitmaps) != nb_bitmaps:
        raise at(
            "bitmap directory",
            directory_offset,
            f"holds {len(bitmaps)} entries, nb_bitmaps is {nb_bitmaps}",
        )
    return bitmaps


def _new_bitmap(
    name_bytes, flags, btype, granularity_bits, table_offset, table_size, directory_offset
):
    # Opening an image with thousands of bitmaps is a hot path, and a
    # frozen dataclass __init__ costs a setattr call per field. Filling
    # __dict__ directly builds the same, equal object twice as fast.
    bitmap = object.__new__(Bitmap)
    bitmap.__dict__.update(
        name=name_bytes.decode("utf-8", "surrogateescape"),
        name_bytes=name_bytes,
        flags=flags,
        in_use=bool(flags & FLAG_IN_USE),
        auto=bool(flags & FLAG_AUTO),
        granularity_bits=granularity_bits,
        granularity=1 << granularity_bits,
        type=btype,
        table_offset=table_offset,
        table_size=table_size,
        directory_offset=directory_offset,
    )
    return bitmap


def _entry_error(buf, pos, directory_offset, index, nb_bitmaps, h, file_size, names):
    """Raise the error describing what is wrong with one directory entry."""
    where = directory_offset + pos
    what = f"bitmap directory entry {index}"
    if index >= nb_bitmaps:
        raise at(what, where, f"directory holds more than nb_bitmaps {nb_bitmaps} entries")
    if pos + ENTRY.size > len(buf):
        raise at(what, where, f"needs {ENTRY.size} bytes, directory has {len(buf) - pos} left")
    (table_offset, table_size, flags, btype, granularity_bits, name_size, extra_data_size) = (
        ENTRY.unpack_from(buf, pos)
    )

    if extra_data_size:
        raise at(what, where, f"extra_data_size {extra_data_size} is not supported")
    if name_size == 0 or name_size > MAX_NAME_SIZE:
        raise at(what, where, f"name_size {name_size} is invalid (must be 1..{MAX_NAME_SIZE})")
    end = pos + ENTRY.size + name_size
    size = (ENTRY.size + name_size + 7) & ~7
    if pos + size > len(buf):
        raise at(
            what,
            where,
            f"entry of {size} bytes extends past the end of the "
            f"directory ({len(buf) - pos} bytes left)",
        )
    name_bytes = bytes(buf[pos + ENTRY.size : end])
    name = name_bytes.decode("utf-8", "surrogateescape")
    if name_bytes in names:
        raise at(what, where, f"name {name!r} is used by an earlier bitmap")
    if any(buf[end : pos + size]):
        raise at(what, where, "padding after the name is not zero")
    what = f"{what} ({name!r})"

    if flags & FLAGS_RESERVED:
        raise at(what, where, f"flags {flags:#x} has reserved bits {flags & FLAGS_RESERVED:#x} set")
    if btype != TYPE_DIRTY_TRACKING:
        raise at(what, where, f"type {btype} is invalid")
    if not MIN_GRANULARITY_BITS <= granularity_bits <= MAX_GRANULARITY_BITS:
        raise at(
            what,
            where,
            f"granularity_bits {granularity_bits} is outside "
            f"{MIN_GRANULARITY_BITS}..{MAX_GRANULARITY_BITS}",
        )
    _check_table(what, where, table_offset, table_size, flags, granularity_bits, h, file_size)
    # Not reached unless the fast check above and this one disagree.
    raise at(what, where, "entry is invalid")


def _check_table(what, where, offset, size, flags, granularity_bits, h, file_size):
    cs = h.cluster_size
    if size == 0 or size > MAX_TABLE_SIZE or size * cs > MAX_PHYS_SIZE:
        raise at(
            what,
            where,
            f"bitmap_table_size {size} is invalid (must be 1.."
            f"{min(MAX_TABLE_SIZE, MAX_PHYS_SIZE // cs)}, qemu keeps "
            f"bitmap data under {MAX_PHYS_SIZE // 2**20} MiB)",
        )
    # An in-use bitmap may have missed a resize, so qemu only demands the
    # exact size from bitmaps it would load.
    expected = expected_table_size(h.size, granularity_bits, cs)
    if not flags & FLAG_IN_USE and size != expected:
        raise at(
            what,
            where,
            f"bitmap_table_size {size} does not match virtual size "
            f"{h.size} and granularity {1 << granularity_bits} "
            f"(expected {expected})",
        )
    if offset == 0 or offset % cs:
        raise at(
            what,
            where,
            f"bitmap_table_offset {offset:#x} is not a non-zero multiple of the cluster size {cs}",
        )
    if offset + size * 8 > file_size:
        raise at(
            what,
            where,
            f"bitmap table at {offset:#x} ({size * 8} bytes) extends "
            f"past the end of the file ({file_size} bytes)",
        )
