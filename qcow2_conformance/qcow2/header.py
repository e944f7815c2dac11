"""The qcow2 header (versions 2 and 3)."""

import struct
from dataclasses import dataclass

from . import layout
from .errors import at

MAGIC = b"QFI\xfb"

# Version 2 header: magic .. snapshots_offset, 72 bytes.
V2 = struct.Struct(">4sIQIIQIIQQIIQ")
# Version 3 additions: incompatible .. header_length, bytes 72-103.
V3 = struct.Struct(">QQQII")
V3_LENGTH = V2.size + V3.size
COMPRESSION_TYPE_OFFSET = 104

# Incompatible feature bits.
INCOMPAT_DIRTY = 1 << 0
INCOMPAT_CORRUPT = 1 << 1
INCOMPAT_DATA_FILE = 1 << 2
INCOMPAT_COMPRESSION = 1 << 3
INCOMPAT_EXTL2 = 1 << 4
INCOMPAT_KNOWN = 0x1F

# Autoclear feature bits.
AUTOCLEAR_BITMAPS = 1 << 0
AUTOCLEAR_DATA_FILE_RAW = 1 << 1

MIN_CLUSTER_BITS = 9
MAX_CLUSTER_BITS = 21  # qemu's implementation limit (2 MiB)
MIN_EXTL2_CLUSTER = 1 << 14
COMPRESSION_TYPES = {0: "zlib", 1: "zstd"}
CRYPT_METHODS = {0: "none", 1: "aes", 2: "luks"}


@dataclass(frozen=True)
class Header:
    version: int
    backing_file_offset: int
    backing_file_size: int
    cluster_bits: int
    cluster_size: int
    size: int
    crypt_method: int
    l1_size: int
    l1_table_offset: int
    refcount_table_offset: int
    refcount_table_clusters: int
    nb_snapshots: int
    snapshots_offset: int
    incompatible_features: int
    compatible_features: int
    autoclear_features: int
    refcount_order: int
    header_length: int
    compression_type: int

    @property
    def extended_l2(self):
        return bool(self.incompatible_features & INCOMPAT_EXTL2)

    @property
    def l2_entries(self):
        entry_size = 16 if self.extended_l2 else 8
        return self.cluster_size // entry_size

    @property
    def l1_entries_needed(self):
        """L1 entries needed to map the whole virtual disk."""
        coverage = self.cluster_size * self.l2_entries
        return -(-self.size // coverage)


def parse(buf, file_size):
    """Parse and validate the header from the first bytes of the file.

    buf must hold the whole header (header_length bytes) if the file has
    that many; a shorter buf means the file itself is that short.
    """
    if len(buf) < len(MAGIC) or buf[:4] != MAGIC:
        raise at("magic", 0, f"{bytes(buf[:4])!r} is not a qcow2 image")
    if len(buf) < V2.size:
        raise at("header", 0, f"file has {len(buf)} bytes, a qcow2 header needs {V2.size}")

    (
        _,
        version,
        backing_file_offset,
        backing_file_size,
        cluster_bits,
        size,
        crypt_method,
        l1_size,
        l1_table_offset,
        refcount_table_offset,
        refcount_table_clusters,
        nb_snapshots,
        snapshots_offset,
    ) = V2.unpack_from(buf)

    if version not in (2, 3):
        raise at("version", 4, f"version {version} is unsupported")

    if not MIN_CLUSTER_BITS <= cluster_bits <= MAX_CLUSTER_BITS:
        raise at(
            "cluster_bits",
            20,
            f"cluster_bits {cluster_bits} is outside {MIN_CLUSTER_BITS}..{MAX_CLUSTER_BITS}",
        )
    cluster_size = 1 << cluster_bits

    if version == 2:
        # The spec defaults for fields a version 2 header lacks.
        incompatible = compatible = autoclear = 0
        refcount_order = 4
        header_length = V2.size
        compression_type = 0
    else:
        if len(buf) < V3_LENGTH:
            raise at(
                "header", 0, f"file has {len(buf)} bytes, a version 3 header needs {V3_LENGTH}"
            )
        (incompatible, compatible, autoclear, refcount_order, header_length) = V3.unpack_from(
            buf, V2.size
        )
        _check_v3(
            buf, incompatible, autoclear, refcount_order, header_length, cluster_size, file_size
        )
        compression_type = 0
        if header_length > COMPRESSION_TYPE_OFFSET:
            compression_type = buf[COMPRESSION_TYPE_OFFSET]
        _check_compression(compression_type, incompatible)

    if crypt_method not in CRYPT_METHODS:
        raise at("crypt_method", 32, f"crypt_method {crypt_method} is unsupported")

    header = Header(
        version=version,
        backing_file_offset=backing_file_offset,
        backing_file_size=backing_file_size,
        cluster_bits=cluster_bits,
        cluster_size=cluster_size,
        size=size,
        crypt_method=crypt_method,
        l1_size=l1_size,
        l1_table_offset=l1_table_offset,
        refcount_table_offset=refcount_table_offset,
        refcount_table_clusters=refcount_table_clusters,
        nb_snapshots=nb_snapshots,
        snapshots_offset=snapshots_offset,
        incompatible_features=incompatible,
        compatible_features=compatible,
        autoclear_features=autoclear,
        refcount_order=refcount_order,
        header_length=header_length,
        compression_type=compression_type,
    )
    layout.check(header, file_size)
    return header


def _check_v3(buf, incompatible, autoclear, refcount_order, header_length, cluster_size, file_size):
    if header_length < V3_LENGTH or header_length % 8:
        raise at(
            "header_length",
            100,
            f"header_length {header_length} must be a multiple of 8 and at least {V3_LENGTH}",
        )
    if header_length > cluster_size:
        raise at(
            "header_length",
            100,
            f"header_length {header_length} exceeds the cluster size {cluster_size}",
        )
    if header_length > min(file_size, len(buf)):
        raise at(
            "header_length",
            100,
            f"header_length {header_length} extends past the end of the file ({file_size} bytes)",
        )
    unknown = incompatible & ~INCOMPAT_KNOWN
    if unknown:
        raise at("incompatible_features", 72, f"unknown incompatible feature bits {unknown:#x}")
    if autoclear & AUTOCLEAR_DATA_FILE_RAW and not (incompatible & INCOMPAT_DATA_FILE):
        raise at(
            "autoclear_features", 88, "raw external data bit set without the external data file bit"
        )
    if refcount_order > 6:
        raise at("refcount_order", 96, f"refcount_order {refcount_order} exceeds 6")
    if incompatible & INCOMPAT_EXTL2 and cluster_size < MIN_EXTL2_CLUSTER:
        raise at(
            "cluster_bits",
            20,
            f"cluster size {cluster_size} is below "
            f"{MIN_EXTL2_CLUSTER}, the minimum for extended L2 entries",
        )


def _check_compression(compression_type, incompatible):
    where = COMPRESSION_TYPE_OFFSET
    if compression_type not in COMPRESSION_TYPES:
        raise at("compression_type", where, f"compression_type {compression_type} is unknown")
    if bool(compression_type) != bool(incompatible & INCOMPAT_COMPRESSION):
        raise at(
            "compression_type",
            where,
            f"compression_type {compression_type} does not match the "
            "compression type incompatible feature bit",
        )
