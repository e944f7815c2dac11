"""Header parsing with hand-written bytes."""

import dataclasses

import pytest

from qcow2_conformance.qcow2 import Header, Qcow2Error, open_image

import craft


def open_bytes(tmp_path, data):
    return open_image(craft.write(tmp_path, data))


def test_v3_fields(tmp_path):
    hdr = craft.header(
        cluster_bits=12,
        size=5 * 2**20,
        l1_size=7,
        l1_table_offset=2 * 4096,
        refcount_table_offset=4096,
        refcount_table_clusters=1,
        nb_snapshots=0,
        snapshots_offset=0,
        incompatible_features=1,
        compatible_features=1,
        autoclear_features=0,
        refcount_order=5,
        header_length=112,
    )
    data = craft.image(hdr, cluster_bits=12)
    with open_bytes(tmp_path, data) as img:
        assert img.header == Header(
            version=3,
            backing_file_offset=0,
            backing_file_size=0,
            cluster_bits=12,
            cluster_size=4096,
            size=5 * 2**20,
            crypt_method=0,
            l1_size=7,
            l1_table_offset=8192,
            refcount_table_offset=4096,
            refcount_table_clusters=1,
            nb_snapshots=0,
            snapshots_offset=0,
            incompatible_features=1,
            compatible_features=1,
            autoclear_features=0,
            refcount_order=5,
            header_length=112,
            compression_type=0,
        )
        assert img.compat == "1.1"
        assert img.backing_file is None
        assert img.backing_format is None
        assert img.data_file is None
        assert img.feature_names == {}
        assert img.extensions == []
        assert img.bitmaps == []


def test_v2_defaults(tmp_path):
    data = craft.image(craft.header(version=2))
    with open_bytes(tmp_path, data) as img:
        h = img.header
        assert img.compat == "0.10"
        assert h.version == 2
        assert h.incompatible_features == 0
        assert h.compatible_features == 0
        assert h.autoclear_features == 0
        assert h.refcount_order == 4
        assert h.header_length == 72
        assert h.compression_type == 0


def test_v2_ignores_v3_bytes(tmp_path):
    # Bytes after a v2 header belong to the extension area, not to fields.
    hdr = craft.header(version=2)
    data = craft.image(hdr + craft.extension(0x12345678, b"\xff" * 24))
    with open_bytes(tmp_path, data) as img:
        assert img.header.incompatible_features == 0
        assert img.extensions == [(0x12345678, 72, 24)]


def test_header_is_frozen(tmp_path):
    with open_bytes(tmp_path, craft.image()) as img:
        with pytest.raises(dataclasses.FrozenInstanceError):
            img.header.size = 0


def test_header_length_104_has_no_compression_type(tmp_path):
    data = craft.image(craft.header(header_length=104))
    with open_bytes(tmp_path, data) as img:
        assert img.header.header_length == 104
        assert img.header.compression_type == 0


def test_zstd_compression_type(tmp_path):
    hdr = craft.header(incompatible_features=8, compression_type=1)
    with open_bytes(tmp_path, craft.image(hdr)) as img:
        assert img.header.compression_type == 1


def test_longer_header_is_accepted(tmp_path):
    hdr = craft.header(header_length=128)
    with open_bytes(tmp_path, craft.image(hdr)) as img:
        assert img.header.header_length == 128


@pytest.mark.parametrize("crypt_method", [1, 2])
def test_encrypted_header(tmp_path, crypt_method):
    hdr = craft.header(crypt_method=crypt_method)
    with open_bytes(tmp_path, craft.image(hdr)) as img:
        assert img.header.crypt_method == crypt_method


def test_backing_file(tmp_path):
    name = "base image ä.qcow2"
    raw = name.encode()
    hdr = craft.header(backing_file_offset=400, backing_file_size=len(raw))
    data = craft.patch(craft.image(hdr), 400, raw)
    with open_bytes(tmp_path, data) as img:
        assert img.backing_file == name


def test_backing_file_invalid_utf8_round_trips(tmp_path):
    raw = b"base-\xff\xfe"
    hdr = craft.header(backing_file_offset=400, backing_file_size=len(raw))
    data = craft.patch(craft.image(hdr), 400, raw)
    with open_bytes(tmp_path, data) as img:
        assert img.backing_file.encode("utf-8", "surrogateescape") == raw


def test_backing_file_ends_extension_area(tmp_path):
    # With a backing file, extensions end at backing_file_offset; qemu
    # stops there even without an end marker.
    hdr = craft.header(backing_file_offset=128, backing_file_size=4)
    ext = craft.extension(0x11111111, b"12345678")
    data = craft.image(hdr + ext, end=False)
    data = craft.patch(data, 128, b"base")
    with open_bytes(tmp_path, data) as img:
        assert img.extensions == [(0x11111111, 112, 8)]
        assert img.backing_file == "base"


H = craft.header

BAD_HEADERS = [
    # (description, header bytes, expected message)
    ("bad magic", b"QFI\xfa" + H()[4:], r"^magic at offset 0x0: b'QFI\\xfa' is not a qcow2 image"),
    ("version 1", H(version=1), r"^version at offset 0x4: version 1 is"),
    ("version 4", H(version=4), r"^version at offset 0x4: version 4 is"),
    (
        "cluster_bits 8",
        H(cluster_bits=8),
        r"^cluster_bits at offset 0x14: cluster_bits 8 is outside 9\.\.21",
    ),
    (
        "cluster_bits 22",
        H(cluster_bits=22),
        r"^cluster_bits at offset 0x14: cluster_bits 22 is outside",
    ),
    (
        "header_length 96",
        H(header_length=96),
        r"^header_length at offset 0x64: header_length 96 must be",
    ),
    (
        "header_length 108",
        H(header_length=108),
        r"^header_length at offset 0x64: header_length 108 must be a multiple",
    ),
    (
        "header_length > cluster",
        H(header_length=1024),
        r"^header_length at offset 0x64: header_length 1024 exceeds the "
        r"cluster size 512",
    ),
    (
        "unknown incompatible bit",
        H(incompatible_features=1 << 5),
        r"^incompatible_features at offset 0x48: unknown incompatible feature "
        r"bits 0x20",
    ),
    (
        "unknown incompatible high bit",
        H(incompatible_features=1 << 63),
        r"^incompatible_features at offset 0x48: unknown .* 0x8000000000000000",
    ),
    (
        "raw data file bit alone",
        H(autoclear_features=2),
        r"^autoclear_features at offset 0x58: raw external data bit",
    ),
    (
        "extended L2 with small clusters",
        H(cluster_bits=13, incompatible_features=16, l1_size=1),
        r"^cluster_bits at offset 0x14: cluster size 8192 is below 16384, the "
        r"minimum for extended L2 entries",
    ),
    (
        "refcount_order 7",
        H(refcount_order=7),
        r"^refcount_order at offset 0x60: refcount_order 7 exceeds 6",
    ),
    (
        "compression type 2",
        H(incompatible_features=8, compression_type=2),
        r"^compression_type at offset 0x68: compression_type 2 is unknown",
    ),
    (
        "zstd without bit",
        H(compression_type=1),
        r"^compression_type at offset 0x68: compression_type 1 does not match",
    ),
    (
        "bit without zstd",
        H(incompatible_features=8),
        r"^compression_type at offset 0x68: compression_type 0 does not match",
    ),
    (
        "crypt_method 3",
        H(crypt_method=3),
        r"^crypt_method at offset 0x20: crypt_method 3 is unsupported",
    ),
    (
        "l1_size too small",
        H(l1_size=31),
        r"^l1_size at offset 0x24: l1_size 31 is too small for virtual size "
        r"1048576 \(needs 32\)",
    ),
    (
        "l1_size too large",
        H(l1_size=4 * 2**20 + 1),
        r"^l1_size at offset 0x24: l1_size 4194305 exceeds 4194304 entries",
    ),
    (
        "huge virtual size",
        H(size=2**64 - 1, l1_size=32),
        r"^l1_size at offset 0x24: l1_size 32 is too small",
    ),
    (
        "l1 unaligned",
        H(l1_table_offset=1000),
        r"^l1_table_offset at offset 0x28: l1_table_offset 0x3e8 is not "
        r"aligned to the cluster size 512",
    ),
    (
        "l1 at zero",
        H(l1_table_offset=0),
        r"^l1_table_offset at offset 0x28: l1_table_offset 0x0 overlaps",
    ),
    (
        "l1 past eof",
        H(l1_table_offset=2**40),
        r"^l1_table_offset at offset 0x28: table at 0x10000000000 \(256 bytes\)"
        r" extends past the end of the file \(1536 bytes\)",
    ),
    (
        "l1 straddles eof",
        H(l1_table_offset=1024, l1_size=65),
        r"^l1_table_offset at offset 0x28: table at 0x400 \(520 bytes\)",
    ),
    (
        "no refcount table",
        H(refcount_table_clusters=0),
        r"^refcount_table_clusters at offset 0x38: image has no refcount",
    ),
    (
        "refcount table too big",
        H(refcount_table_clusters=16385),
        r"^refcount_table_clusters at offset 0x38: refcount_table_clusters "
        r"16385 exceeds 8388608 bytes",
    ),
    (
        "refcount table unaligned",
        H(refcount_table_offset=513),
        r"^refcount_table_offset at offset 0x30: refcount_table_offset 0x201",
    ),
    (
        "refcount table at zero",
        H(refcount_table_offset=0),
        r"^refcount_table_offset at offset 0x30: refcount_table_offset 0x0 "
        r"overlaps the header",
    ),
    (
        "refcount table past eof",
        H(refcount_table_clusters=3),
        r"^refcount_table_offset at offset 0x30: table at 0x200 \(1536 bytes\)",
    ),
    (
        "too many snapshots",
        H(nb_snapshots=65537, snapshots_offset=512),
        r"^nb_snapshots at offset 0x3c: nb_snapshots 65537 exceeds 65536",
    ),
    (
        "snapshots unaligned",
        H(snapshots_offset=100),
        r"^snapshots_offset at offset 0x40: snapshots_offset 0x64 is not",
    ),
    (
        "snapshots at zero",
        H(nb_snapshots=1),
        r"^snapshots_offset at offset 0x40: snapshots_offset 0x0 overlaps",
    ),
    (
        "snapshots past eof",
        H(nb_snapshots=100, snapshots_offset=1024),
        r"^snapshots_offset at offset 0x40: table at 0x400 \(4000 bytes\)",
    ),
    (
        "backing offset outside cluster",
        H(backing_file_offset=513, backing_file_size=1),
        r"^backing_file_offset at offset 0x8: backing_file_offset 0x201 is "
        r"outside the first cluster",
    ),
    (
        "backing name past cluster",
        H(backing_file_offset=500, backing_file_size=13),
        r"^backing_file_size at offset 0x10: backing_file_size 13 exceeds 12",
    ),
    (
        "backing name too long",
        H(cluster_bits=12, backing_file_offset=200, backing_file_size=1024, l1_size=1),
        r"^backing_file_size at offset 0x10: backing_file_size 1024 exceeds "
        r"1023",
    ),
]


@pytest.mark.parametrize("name,hdr,message", BAD_HEADERS, ids=[b[0] for b in BAD_HEADERS])
def test_bad_header(tmp_path, name, hdr, message):
    cluster_bits = int.from_bytes(hdr[20:24], "big")
    if not 9 <= cluster_bits <= 16:
        cluster_bits = 9
    with pytest.raises(Qcow2Error, match=message):
        open_bytes(tmp_path, craft.image(hdr, cluster_bits=cluster_bits))


@pytest.mark.parametrize("length", [0, 1, 3])
def test_tiny_file_is_not_qcow2(tmp_path, length):
    with pytest.raises(Qcow2Error, match=r"^magic at offset 0x0: .* is not a"):
        open_bytes(tmp_path, craft.MAGIC[:length])


@pytest.mark.parametrize("length", [4, 20, 71])
def test_truncated_v2_header(tmp_path, length):
    data = craft.header(version=2)[:length]
    with pytest.raises(
        Qcow2Error,
        match=rf"^header at offset 0x0: file has {length} "
        r"bytes, a qcow2 header needs 72",
    ):
        open_bytes(tmp_path, data)


@pytest.mark.parametrize("length", [72, 100, 103])
def test_truncated_v3_header(tmp_path, length):
    data = craft.header()[:length]
    with pytest.raises(
        Qcow2Error,
        match=rf"^header at offset 0x0: file has {length} "
        r"bytes, a version 3 header needs 104",
    ):
        open_bytes(tmp_path, data)


def test_header_length_past_eof(tmp_path):
    data = craft.header(header_length=120)[:112]
    with pytest.raises(
        Qcow2Error,
        match=r"^header_length at offset 0x64: header_length "
        r"120 extends past the end of the file",
    ):
        open_bytes(tmp_path, data)


def test_backing_file_name_at_end_of_short_file(tmp_path):
    # A file shorter than a cluster whose tables all fit is still valid.
    hdr = craft.header(
        cluster_bits=12,
        size=0,
        l1_size=0,
        l1_table_offset=0,
        refcount_table_offset=4096,
        refcount_table_clusters=1,
        backing_file_offset=300,
        backing_file_size=5,
    )
    data = bytearray(2 * 4096)
    data[: len(hdr)] = hdr
    data[300:305] = b"basef"
    with open_bytes(tmp_path, bytes(data)) as img:
        assert img.backing_file == "basef"
        assert img.allocated_extents() == []


def test_messages_are_value_errors(tmp_path):
    with pytest.raises(ValueError):
        open_bytes(tmp_path, b"not a qcow2 image at all")
