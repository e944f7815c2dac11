"""Hand-built qcow2 bytes for the pure-logic tests.

The layout of a crafted image is fixed and simple:

    cluster 0   header, header extensions, end marker
    cluster 1   refcount table (zeros; the reader never looks at refcounts)
    cluster 2   L1 table
    cluster 3+  whatever the test places there (L2 tables, data, bitmaps)
"""

import struct

MAGIC = b"QFI\xfb"

V2_FIELDS = (
    "magic",
    "version",
    "backing_file_offset",
    "backing_file_size",
    "cluster_bits",
    "size",
    "crypt_method",
    "l1_size",
    "l1_table_offset",
    "refcount_table_offset",
    "refcount_table_clusters",
    "nb_snapshots",
    "snapshots_offset",
)
V3_FIELDS = (
    "incompatible_features",
    "compatible_features",
    "autoclear_features",
    "refcount_order",
    "header_length",
)
V2 = struct.Struct(">4sIQIIQIIQQIIQ")
V3 = struct.Struct(">QQQII")

# Byte offsets of the header fields, for patching real images.
OFFSETS = {
    "version": 4,
    "backing_file_offset": 8,
    "backing_file_size": 16,
    "cluster_bits": 20,
    "size": 24,
    "crypt_method": 32,
    "l1_size": 36,
    "l1_table_offset": 40,
    "refcount_table_offset": 48,
    "refcount_table_clusters": 56,
    "nb_snapshots": 60,
    "snapshots_offset": 64,
    "incompatible_features": 72,
    "compatible_features": 80,
    "autoclear_features": 88,
    "refcount_order": 96,
    "header_length": 100,
    "compression_type": 104,
}

BACKING_FORMAT = 0xE2792ACA
FEATURE_TABLE = 0x6803F857
BITMAPS = 0x23852875
CRYPTO_HEADER = 0x0537BE77
DATA_FILE = 0x44415441

END = bytes(8)

AUTO = 2
IN_USE = 1


def l1_entries(size, cluster_bits):
    cs = 1 << cluster_bits
    return -(-size // (cs * cs // 8))


def header(version=3, cluster_bits=9, size=1 << 20, **fields):
    """Pack a header; fields override any default by name."""
    cs = 1 << cluster_bits
    values = dict(
        magic=MAGIC,
        version=version,
        backing_file_offset=0,
        backing_file_size=0,
        cluster_bits=cluster_bits,
        size=size,
        crypt_method=0,
        l1_size=l1_entries(size, cluster_bits),
        l1_table_offset=2 * cs,
        refcount_table_offset=cs,
        refcount_table_clusters=1,
        nb_snapshots=0,
        snapshots_offset=0,
        incompatible_features=0,
        compatible_features=0,
        autoclear_features=0,
        refcount_order=4,
        header_length=112,
        compression_type=0,
    )
    unknown = set(fields) - set(values)
    assert not unknown, unknown
    values.update(fields)
    buf = V2.pack(*(values[k] for k in V2_FIELDS))
    if version == 2:
        return buf
    buf += V3.pack(*(values[k] for k in V3_FIELDS))
    if values["header_length"] > 104:
        buf += bytes([values["compression_type"]])
        buf += bytes(values["header_length"] - 105)
    return buf


def extension(etype, data, length=None):
    """One header extension, padded to 8 bytes."""
    if length is None:
        length = len(data)
    pad = -len(data) % 8
    return struct.pack(">II", etype, length) + data + bytes(pad)


def feature(ftype, bit, name):
    return struct.pack(">BB46s", ftype, bit, name.encode())


def bitmaps_ext(nb_bitmaps, directory_size, directory_offset, reserved=0):
    data = struct.pack(">IIQQ", nb_bitmaps, reserved, directory_size, directory_offset)
    return extension(BITMAPS, data)


def dir_entry(
    name,
    table_offset,
    table_size,
    flags=AUTO,
    type=1,
    granularity_bits=16,
    extra=b"",
    name_size=None,
    extra_data_size=None,
    padding=None,
):
    """One bitmap directory entry; name may be str or bytes."""
    if isinstance(name, str):
        name = name.encode()
    if name_size is None:
        name_size = len(name)
    if extra_data_size is None:
        extra_data_size = len(extra)
    buf = struct.pack(
        ">QIIBBHI",
        table_offset,
        table_size,
        flags,
        type,
        granularity_bits,
        name_size,
        extra_data_size,
    )
    buf += extra + name
    if padding is None:
        padding = bytes(-len(buf) % 8)
    return buf + padding


def u64s(*values):
    return struct.pack(f">{len(values)}Q", *values)


def image(hdr=None, exts=(), end=True, clusters=None, cluster_bits=9, nclusters=None, tail=b""):
    """Assemble a whole file.

    hdr defaults to header(cluster_bits=cluster_bits). clusters maps a
    cluster index to its bytes (shorter than a cluster is fine). tail is
    appended after the last cluster, to model partial trailing writes.
    """
    cs = 1 << cluster_bits
    if hdr is None:
        hdr = header(cluster_bits=cluster_bits)
    first = hdr + b"".join(exts) + (END if end else b"")
    clusters = dict(clusters or {})
    count = max([3, *(i + 1 for i in clusters)])
    if nclusters is not None:
        count = nclusters
    buf = bytearray(max(count * cs, len(first)))
    buf[: len(first)] = first
    # Data longer than a cluster spills into the next ones.
    for index, data in sorted(clusters.items()):
        buf[index * cs : index * cs + len(data)] = data
    return bytes(buf) + tail


def bitmap_image(
    entries,
    nb_bitmaps=None,
    cluster_bits=9,
    size=1 << 20,
    directory_cluster=3,
    clusters=None,
    autoclear=1,
    **fields,
):
    """An image with a bitmap directory at directory_cluster."""
    directory = b"".join(entries)
    if nb_bitmaps is None:
        nb_bitmaps = len(entries)
    cs = 1 << cluster_bits
    hdr = header(cluster_bits=cluster_bits, size=size, autoclear_features=autoclear, **fields)
    ext = bitmaps_ext(nb_bitmaps, len(directory), directory_cluster * cs)
    placed = {directory_cluster: directory}
    placed.update(clusters or {})
    return image(hdr, [ext], clusters=placed, cluster_bits=cluster_bits)


def write(tmp_path, data, name="img.qcow2"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def patch(data, offset, value):
    """Return data with value (bytes) written at offset."""
    buf = bytearray(data)
    buf[offset : offset + len(value)] = value
    return bytes(buf)
