"""Header extensions with hand-written bytes."""

import pytest

from qcow2_conformance.qcow2 import Qcow2Error, extensions, header, open_image

import craft


def open_bytes(tmp_path, data):
    return open_image(craft.write(tmp_path, data))


def test_backing_format(tmp_path):
    hdr = craft.header(backing_file_offset=400, backing_file_size=4)
    ext = craft.extension(craft.BACKING_FORMAT, b"qcow2")
    data = craft.patch(craft.image(hdr, [ext]), 400, b"base")
    with open_bytes(tmp_path, data) as img:
        assert img.backing_file == "base"
        assert img.backing_format == "qcow2"
        assert img.extensions == [(craft.BACKING_FORMAT, 112, 5)]


def test_feature_table(tmp_path):
    table = (
        craft.feature(0, 0, "dirty bit")
        + craft.feature(1, 0, "lazy refcounts")
        + craft.feature(2, 0, "bitmaps")
        + craft.feature(0, 63, "x" * 46)
    )
    with open_bytes(
        tmp_path, craft.image(exts=[craft.extension(craft.FEATURE_TABLE, table)])
    ) as img:
        assert img.feature_names == {
            (0, 0): "dirty bit",
            (1, 0): "lazy refcounts",
            (2, 0): "bitmaps",
            (0, 63): "x" * 46,
        }


def test_data_file(tmp_path):
    hdr = craft.header(incompatible_features=4)
    ext = craft.extension(craft.DATA_FILE, b"data.raw")
    with open_bytes(tmp_path, craft.image(hdr, [ext])) as img:
        assert img.data_file == "data.raw"
        with pytest.raises(Qcow2Error, match="external data files .* not supported"):
            img.allocated_extents()
        with pytest.raises(Qcow2Error, match="external data files"):
            img.data_digest()


def test_unknown_extensions_are_listed_in_order(tmp_path):
    exts = [
        craft.extension(0xDEADBEEF, b"abc"),
        craft.extension(craft.BACKING_FORMAT, b"raw"),
        craft.extension(0x00000001, b""),
        craft.extension(0xFEEDFACE, bytes(17)),
    ]
    with open_bytes(tmp_path, craft.image(exts=exts)) as img:
        assert img.extensions == [
            (0xDEADBEEF, 112, 3),
            (craft.BACKING_FORMAT, 128, 3),
            (0x00000001, 144, 0),
            (0xFEEDFACE, 152, 17),
        ]
        assert img.backing_format == "raw"


def test_end_marker_stops_parsing(tmp_path):
    exts = [craft.extension(0x1, b"x"), craft.END, craft.extension(0x1, b"garbage after the end")]
    with open_bytes(tmp_path, craft.image(exts=exts)) as img:
        assert img.extensions == [(0x1, 112, 1)]


def test_extension_filling_the_cluster(tmp_path):
    # Without room for an end marker, the area simply ends with the cluster.
    ext = craft.extension(0x1, bytes(512 - 112 - 8))
    with open_bytes(tmp_path, craft.image(exts=[ext], end=False)) as img:
        assert img.extensions == [(0x1, 112, 392)]


def test_crypto_header(tmp_path):
    hdr = craft.header(crypt_method=2)
    ext = craft.extension(craft.CRYPTO_HEADER, craft.u64s(1536, 100))
    data = craft.image(hdr, [ext], nclusters=4)
    with open_bytes(tmp_path, data) as img:
        assert img.header.crypt_method == 2
        assert img.extensions == [(craft.CRYPTO_HEADER, 112, 16)]


def test_stale_bitmaps_extension_is_ignored(tmp_path):
    # A program without bitmap support cleared the autoclear bit; qemu
    # then ignores the extension, even its contents.
    ext = craft.bitmaps_ext(0, 0, 12345)
    with open_bytes(tmp_path, craft.image(exts=[ext])) as img:
        assert img.bitmaps == []
        assert img.bitmaps_stale
        assert img.extensions == [(craft.BITMAPS, 112, 24)]


def test_no_bitmaps(tmp_path):
    with open_bytes(tmp_path, craft.image()) as img:
        assert img.bitmaps == []
        assert not img.bitmaps_stale


E = craft.extension

BAD_EXTENSIONS = [
    # (description, header overrides, extension bytes, expected message)
    (
        "type/length past backing name",
        dict(backing_file_offset=116),
        [b"\0\0\0\x01"],
        r"^header extension at offset 0x70: needs 8 bytes but the extension "
        r"area ends at 0x74",
    ),
    (
        "longer than the area",
        {},
        [E(0x12345678, b"", length=1000)],
        r"^header extension 0x12345678 at offset 0x70: length 1000 exceeds "
        r"the extension area \(ends at 0x200\)",
    ),
    (
        "longer than the area before the backing name",
        dict(backing_file_offset=200),
        [E(0x1, b"", length=81)],
        r"^header extension 0x00000001 at offset 0x70: length 81 exceeds",
    ),
    (
        "duplicate",
        {},
        [E(0x1, b"a"), E(0x1, b"b")],
        r"^header extension 0x00000001 at offset 0x80: extension appears more "
        r"than once",
    ),
    (
        "backing format too long",
        {},
        [E(craft.BACKING_FORMAT, b"x" * 16)],
        r"^backing format extension at offset 0x70: length 16 exceeds 15",
    ),
    (
        "feature table length",
        {},
        [E(craft.FEATURE_TABLE, bytes(47))],
        r"^feature name table at offset 0x70: length 47 is not a multiple "
        r"of 48",
    ),
    (
        "feature type",
        {},
        [E(craft.FEATURE_TABLE, craft.feature(0, 1, "a") + craft.feature(3, 1, "b"))],
        r"^feature name table entry 1 at offset 0xa8: type 3 is invalid",
    ),
    (
        "feature bit",
        {},
        [E(craft.FEATURE_TABLE, craft.feature(2, 64, "a"))],
        r"^feature name table entry 0 at offset 0x79: bit 64 is invalid",
    ),
    (
        "bitmaps length",
        dict(autoclear_features=1),
        [E(craft.BITMAPS, bytes(16))],
        r"^bitmaps extension at offset 0x70: length 16 is not 24",
    ),
    (
        "bitmaps reserved",
        dict(autoclear_features=1),
        [craft.bitmaps_ext(1, 32, 1536, reserved=1)],
        r"^bitmaps extension at offset 0x7c: reserved field 0x1 is not zero",
    ),
    (
        "zero bitmaps",
        dict(autoclear_features=1),
        [craft.bitmaps_ext(0, 32, 1536)],
        r"^bitmaps extension at offset 0x78: nb_bitmaps 0 is outside "
        r"1\.\.65535",
    ),
    (
        "too many bitmaps",
        dict(autoclear_features=1),
        [craft.bitmaps_ext(65536, 32, 1536)],
        r"^bitmaps extension at offset 0x78: nb_bitmaps 65536 is outside",
    ),
    (
        "empty directory",
        dict(autoclear_features=1),
        [craft.bitmaps_ext(1, 0, 1536)],
        r"^bitmaps extension at offset 0x80: bitmap_directory_size 0 is "
        r"outside 1\.\.67107840",
    ),
    (
        "huge directory",
        dict(autoclear_features=1),
        [craft.bitmaps_ext(1, 67107841, 1536)],
        r"^bitmaps extension at offset 0x80: bitmap_directory_size 67107841",
    ),
    (
        "unaligned directory",
        dict(autoclear_features=1),
        [craft.bitmaps_ext(1, 32, 1537)],
        r"^bitmaps extension at offset 0x88: bitmap_directory_offset 0x601 is "
        r"not a non-zero multiple of the cluster size 512",
    ),
    (
        "directory at zero",
        dict(autoclear_features=1),
        [craft.bitmaps_ext(1, 32, 0)],
        r"^bitmaps extension at offset 0x88: bitmap_directory_offset 0x0",
    ),
    (
        "directory past eof",
        dict(autoclear_features=1),
        [craft.bitmaps_ext(1, 32, 1536)],
        r"^bitmaps extension at offset 0x88: bitmap directory at 0x600 "
        r"\(32 bytes\) extends past the end of the file \(1536 bytes\)",
    ),
    (
        "autoclear bit without extension",
        dict(autoclear_features=1),
        [],
        r"^autoclear_features at offset 0x58: bitmaps bit set without a "
        r"bitmaps extension",
    ),
    (
        "crypto header without luks",
        {},
        [E(craft.CRYPTO_HEADER, craft.u64s(512, 16))],
        r"^crypto header extension at offset 0x70: present but crypt_method "
        r"is not LUKS",
    ),
    (
        "crypto header length",
        dict(crypt_method=2),
        [E(craft.CRYPTO_HEADER, craft.u64s(512))],
        r"^crypto header extension at offset 0x70: length 8 is not 16",
    ),
    (
        "crypto header unaligned",
        dict(crypt_method=2),
        [E(craft.CRYPTO_HEADER, craft.u64s(513, 16))],
        r"^crypto header extension at offset 0x78: offset 0x201 is not a",
    ),
    (
        "crypto header past eof",
        dict(crypt_method=2),
        [E(craft.CRYPTO_HEADER, craft.u64s(1024, 1024))],
        r"^crypto header extension at offset 0x78: encryption header at 0x400 "
        r"\(1024 bytes\) extends past the end of the file",
    ),
]


@pytest.mark.parametrize(
    "name,fields,exts,message", BAD_EXTENSIONS, ids=[b[0] for b in BAD_EXTENSIONS]
)
def test_bad_extension(tmp_path, name, fields, exts, message):
    data = craft.image(craft.header(**fields), exts)
    with pytest.raises(Qcow2Error, match=message):
        open_bytes(tmp_path, data)


def test_extension_past_end_of_buffer():
    # Unreachable through open_image (the refcount table keeps files at
    # least two clusters long), but the parser must not trust its input.
    data = craft.header() + craft.extension(0x1, bytes(64))
    h = header.parse(data, 4096)
    with pytest.raises(
        Qcow2Error,
        match=r"^header extension 0x00000001 at "
        r"offset 0x70: length 64 extends "
        r"past the end of the file",
    ):
        extensions.parse(h, data[:150], 150)
    with pytest.raises(
        Qcow2Error,
        match=r"^header extension at offset 0x70:"
        r" extends past the end",
    ):
        extensions.parse(h, data[:116], 116)
