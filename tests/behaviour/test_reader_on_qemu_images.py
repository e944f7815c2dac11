"""The reader against images made by the real qemu tools."""

import pytest

from qcow2_conformance.qcow2 import Extent, Qcow2Error, open_image
from qcow2_conformance.tools import command, qemu_img, qemu_io

import craft
import images

KiB = 2**10
MiB = 2**20
GiB = 2**30
TiB = 2**40


def info_bitmaps(tools, path):
    """(name, flags, granularity) as qemu-img info reports them."""
    return [
        (b["name"], sorted(b["flags"]), b["granularity"])
        for b in qemu_img.bitmaps(qemu_img.info(tools, str(path)))
    ]


def reader_bitmaps(img):
    result = []
    for b in img.bitmaps:
        flags = sorted(f for f, on in (("in-use", b.in_use), ("auto", b.auto)) if on)
        result.append((b.name, flags, b.granularity))
    return result


def map_extents(tools, path):
    """What qemu-img map says this image maps itself (depth 0)."""
    extents = []
    for e in qemu_img.map(tools, str(path)):
        if not e["present"] or e["depth"] != 0:
            continue
        if e["data"]:
            # qemu 7.2 reports no host offset for compressed clusters.
            kind = "data" if "offset" in e else "compressed"
        else:
            kind = "zero"
        last = extents[-1] if extents else None
        if last and last.kind == kind and (last.offset + last.length == e["start"]):
            extents[-1] = Extent(last.offset, last.length + e["length"], kind)
        else:
            extents.append(Extent(e["start"], e["length"], kind))
    return extents


def expected_dirty(writes, granularity, size):
    """The merged guest ranges a bitmap should have after writes."""
    granules = set()
    for offset, length in writes:
        first = offset // granularity
        last = (offset + length - 1) // granularity
        granules.update(range(first, last + 1))
    extents = []
    for g in sorted(granules):
        start = g * granularity
        end = min(start + granularity, size)
        if extents and extents[-1][0] + extents[-1][1] == start:
            extents[-1] = (extents[-1][0], end - extents[-1][0])
        else:
            extents.append((start, end - start))
    return extents


def write_commands(writes, pattern=0x11):
    return [f"write -P {pattern:#x} {off} {length}" for off, length in writes]


# Headers.


def test_v2_header(tools, tmp_path):
    path = images.create(tools, tmp_path / "v2.qcow2", "1G", "compat=0.10")
    with open_image(path) as img:
        h = img.header
        info = qemu_img.info(tools, str(path))
        assert img.compat == info["format-specific"]["data"]["compat"] == "0.10"
        assert (h.version, h.size, h.cluster_size) == (2, GiB, 64 * KiB)
        assert (h.incompatible_features, h.compatible_features, h.autoclear_features) == (0, 0, 0)
        assert (h.refcount_order, h.header_length, h.compression_type) == (4, 72, 0)
        assert h.l1_size >= h.l1_entries_needed == 2
        assert h.refcount_table_offset == 64 * KiB
        assert img.bitmaps == []
        assert img.allocated_extents() == []


def test_v3_header(tools, tmp_path):
    path = images.create(tools, tmp_path / "v3.qcow2", "1G")
    info = qemu_img.info(tools, str(path))
    with open_image(path) as img:
        h = img.header
        assert img.compat == info["format-specific"]["data"]["compat"]
        assert (h.version, h.size, h.cluster_size) == (
            3,
            info["virtual-size"],
            info["cluster-size"],
        )
        assert h.header_length == 112
        assert h.refcount_order == 4
        assert h.compression_type == 0
        names = img.feature_names
        assert names[(0, 0)] == "dirty bit"
        assert names[(0, 1)] == "corrupt bit"
        assert names[(1, 0)] == "lazy refcounts"
        assert names[(2, 0)] == "bitmaps"
        assert [t for t, _, _ in img.extensions] == [craft.FEATURE_TABLE]


@pytest.mark.parametrize("compat", ["0.10", "1.1"])
def test_backing_file_and_format(tools, tmp_path, compat):
    base = images.create(tools, tmp_path / "base.qcow2", "1G")
    top = images.create(
        tools, tmp_path / "top.qcow2", "1G", f"compat={compat}", backing=base, backing_fmt="qcow2"
    )
    info = qemu_img.info(tools, str(top))
    with open_image(top) as img:
        assert img.backing_file == str(base) == info["backing-filename"]
        assert img.backing_format == "qcow2" == info["backing-filename-format"]
        assert img.allocated_extents() == []


def test_raw_backing_file(tools, tmp_path):
    base = tmp_path / "base with space.raw"
    base.write_bytes(bytes(MiB))
    top = images.create(tools, tmp_path / "top.qcow2", "1M", backing=base, backing_fmt="raw")
    images.io(tools, top, "write -P 0x5 64k 64k")
    with open_image(top) as img:
        assert img.backing_file == str(base)
        assert img.backing_format == "raw"
        assert img.allocated_extents() == [Extent(64 * KiB, 64 * KiB, "data")]


@pytest.mark.parametrize("cluster_size", [512, 64 * KiB, 2 * MiB])
def test_cluster_sizes(tools, tmp_path, cluster_size):
    path = images.create(tools, tmp_path / "c.qcow2", "64M", f"cluster_size={cluster_size}")
    qemu_img.bitmap(tools, str(path), "b", "--add", granularity=64 * KiB)
    writes = [(0, KiB), (5 * MiB, 3 * MiB), (20 * MiB, 4 * MiB), (63 * MiB, MiB)]
    images.io(
        tools,
        path,
        "write -P 0x1 0 1k",
        "write -P 0x2 5M 3M",
        "write -z 20M 4M",
        "write -P 0x3 63M 1M",
    )
    info = qemu_img.info(tools, str(path))
    with open_image(path) as img:
        assert img.header.cluster_size == cluster_size == info["cluster-size"]
        assert img.header.cluster_bits == cluster_size.bit_length() - 1
        assert img.header.size == info["virtual-size"]
        assert img.allocated_extents() == map_extents(tools, path)
        assert reader_bitmaps(img) == info_bitmaps(tools, path)
        assert img.dirty_extents(img.bitmaps[0]) == expected_dirty(writes, 64 * KiB, 64 * MiB)


def test_zstd_compression_type(tools, tmp_path):
    path = images.create(tools, tmp_path / "z.qcow2", "1M", "compression_type=zstd")
    with open_image(path) as img:
        assert img.header.compression_type == 1
        assert img.header.incompatible_features & 8


@pytest.mark.parametrize("fmt,method", [("aes", 1), ("luks", 2)])
def test_encrypted_header(tools, tmp_path, fmt, method):
    path = images.create_encrypted(tools, tmp_path / "enc.qcow2", "16M", fmt)
    with open_image(path) as img:
        assert img.header.crypt_method == method
        types = [t for t, _, _ in img.extensions]
        assert (craft.CRYPTO_HEADER in types) == (method == 2)


def test_extended_l2(tools, tmp_path):
    path = images.create(tools, tmp_path / "e.qcow2", "1M", "extended_l2=on")
    with open_image(path) as img:
        assert img.header.extended_l2
        with pytest.raises(Qcow2Error, match="extended L2"):
            img.allocated_extents()


def test_external_data_file(tools, tmp_path):
    data_file = tmp_path / "data.raw"
    path = images.create(tools, tmp_path / "d.qcow2", "1M", f"data_file={data_file}")
    with open_image(path) as img:
        assert img.data_file == str(data_file)
        assert img.header.incompatible_features & 4
        with pytest.raises(Qcow2Error, match="external data file"):
            img.data_digest()


def test_dirty_bit_after_crash_with_lazy_refcounts(tools, tmp_path):
    path = images.create(tools, tmp_path / "lazy.qcow2", "64M", "lazy_refcounts=on")
    images.crash(tools, path, "write -P 0x7 1M 64k")
    with open_image(path) as img:
        assert img.header.compatible_features & 1
        assert img.header.incompatible_features & 1
        assert img.allocated_extents() == [Extent(MiB, 64 * KiB, "data")]


# Allocation.


@pytest.mark.parametrize("compat", ["0.10", "1.1"])
def test_allocated_extents(tools, tmp_path, compat):
    path = images.create(tools, tmp_path / "a.qcow2", "64M", f"compat={compat}")
    images.io(
        tools,
        path,
        "write -P 0x11 0 64k",
        "write -P 0x12 64k 64k",
        "write -P 0x13 1M 100k",
        "write -z 4M 1M",
        "write -z 5M 64k",
        "write -P 0x14 6M 64k",
    )
    with open_image(path) as img:
        extents = img.allocated_extents()
    assert extents == map_extents(tools, path)
    if compat == "1.1":
        assert extents == [
            Extent(0, 128 * KiB, "data"),
            Extent(MiB, 128 * KiB, "data"),
            Extent(4 * MiB, MiB + 64 * KiB, "zero"),
            Extent(6 * MiB, 64 * KiB, "data"),
        ]


def test_compressed_clusters(tools, tmp_path):
    src = images.create(tools, tmp_path / "src.qcow2", "16M")
    images.io(tools, src, "write -P 0x21 0 256k", "write -P 0x22 8M 64k")
    dst = tmp_path / "dst.qcow2"
    qemu_img.convert(tools, str(src), str(dst), compress=True)
    with open_image(dst) as img:
        assert (
            img.allocated_extents()
            == [
                Extent(0, 256 * KiB, "compressed"),
                Extent(8 * MiB, 64 * KiB, "compressed"),
            ]
            == map_extents(tools, dst)
        )
        digest = img.data_digest()
    with open_image(dst) as img:
        assert img.data_digest() == digest


def test_digest_tracks_guest_data_not_bitmaps(tools, tmp_path):
    path = images.create(tools, tmp_path / "d.qcow2", "64M")
    images.io(tools, path, "write -P 0x31 0 1M")
    with open_image(path) as img:
        before = img.data_digest()
    qemu_img.bitmap(tools, str(path), "b0", "--add")
    qemu_img.bitmap(tools, str(path), "b1", "--add", granularity=512)
    qemu_io.open_and_die(tools, str(path))
    with open_image(path) as img:
        assert img.data_digest() == before
    images.io(tools, path, "write -P 0x32 512 512")
    with open_image(path) as img:
        changed = img.data_digest()
        assert changed != before
    images.io(tools, path, "write -P 0x31 512 512")
    with open_image(path) as img:
        assert img.data_digest() == before


# Bitmaps.


@pytest.mark.parametrize(
    "granularity,size,writes",
    [
        (512, 64 * MiB, [(0, 1), (1000, 24), (4096, 8192), (63 * MiB, MiB)]),
        (
            64 * KiB,
            64 * MiB,
            [(0, 64 * KiB), (100 * KiB, 1), (5 * MiB, 3 * MiB), (64 * MiB - 512, 512)],
        ),
        (128 * KiB, 64 * MiB, [(64 * KiB, 64 * KiB), (1 * MiB, 1), (10 * MiB - 1, 2)]),
        (2 * GiB, 5 * GiB, [(3 * GiB, 4 * KiB), (5 * GiB - 512, 512)]),
    ],
)
def test_dirty_bits(tools, tmp_path, granularity, size, writes):
    path = images.create(tools, tmp_path / "b.qcow2", size)
    qemu_img.bitmap(tools, str(path), "rec", "--add", granularity=granularity)
    images.io(tools, path, *write_commands(writes))
    with open_image(path) as img:
        assert reader_bitmaps(img) == info_bitmaps(tools, path) == [("rec", ["auto"], granularity)]
        b = img.bitmaps[0]
        expected = expected_dirty(writes, granularity, size)
        assert img.dirty_extents(b) == expected
        assert img.dirty_count(b) == sum(-(-length // granularity) for _, length in expected)


def test_recording_disabled_and_inconsistent(tools, tmp_path):
    path = images.create(tools, tmp_path / "f.qcow2", "64M")
    qemu_img.bitmap(tools, str(path), "recording", "--add")
    qemu_img.bitmap(tools, str(path), "disabled", "--add", "--disable")
    images.io(tools, path, "write -P 0x1 1M 64k")
    qemu_img.bitmap(tools, str(path), "inconsistent", "--add")
    images.crash(tools, path, "write -P 0x2 2M 64k")
    with open_image(path) as img:
        assert reader_bitmaps(img) == info_bitmaps(tools, path)
        flags = {b.name: (b.in_use, b.auto) for b in img.bitmaps}
        # The crash left every bitmap qemu had loaded writable in use.
        assert flags == {
            "recording": (True, True),
            "disabled": (True, False),
            "inconsistent": (True, True),
        }
        for b in img.bitmaps:
            # Stale bits, but still readable.
            img.dirty_extents(b)
            img.dirty_count(b)


def test_clean_close_clears_in_use(tools, tmp_path):
    path = images.create(tools, tmp_path / "f.qcow2", "64M")
    qemu_img.bitmap(tools, str(path), "recording", "--add")
    qemu_img.bitmap(tools, str(path), "disabled", "--add", "--disable")
    images.io(tools, path, "write -P 0x1 1M 64k")
    with open_image(path) as img:
        assert (
            reader_bitmaps(img)
            == info_bitmaps(tools, path)
            == [("recording", ["auto"], 65536), ("disabled", [], 65536)]
        )
        recording, disabled = img.bitmaps
        assert img.dirty_extents(recording) == [(MiB, 64 * KiB)]
        assert img.dirty_extents(disabled) == []


def test_all_ones(tools, tmp_path):
    size = 64 * MiB
    path = images.create(tools, tmp_path / "full.qcow2", size)
    qemu_img.bitmap(tools, str(path), "full", "--add", granularity=512)
    images.io(tools, path, f"write -z 0 {size}")
    qemu_img.bitmap(tools, str(path), "copy", "--add", "--disable", granularity=512)
    qemu_img.bitmap(tools, str(path), "copy", "--merge", "full")
    with open_image(path) as img:
        assert reader_bitmaps(img) == info_bitmaps(tools, path)
        for b in img.bitmaps:
            assert img.dirty_extents(b) == [(0, size)]
            assert img.dirty_count(b) == size // 512


NAMES = [
    "with space",
    "new\nline",
    'tab\tand "quotes"',
    "n\u00e4me-\u65e5\u672c-\U0001f600",
    "x" * 1023,
    "\u00e9" * 511 + "e",  # 1023 bytes of UTF-8
]


def test_names(tools, tmp_path):
    path = images.create(tools, tmp_path / "n.qcow2", "1M")
    for name in NAMES:
        qemu_img.bitmap(tools, str(path), name, "--add")
    with open_image(path) as img:
        assert reader_bitmaps(img) == info_bitmaps(tools, path)
        assert sorted(b.name for b in img.bitmaps) == sorted(NAMES)
        for b in img.bitmaps:
            assert b.name_bytes == b.name.encode()


def test_name_of_1024_bytes_is_refused_by_qemu(tools, tmp_path):
    path = images.create(tools, tmp_path / "n.qcow2", "1M")
    with pytest.raises(command.CommandError):
        qemu_img.bitmap(tools, str(path), "x" * 1024, "--add")
    with open_image(path) as img:
        assert img.bitmaps == []


def test_stale_bitmaps_extension(tools, tmp_path):
    path = images.create(tools, tmp_path / "s.qcow2", "1M")
    qemu_img.bitmap(tools, str(path), "b", "--add")
    with open(path, "r+b") as f:
        f.seek(craft.OFFSETS["autoclear_features"])
        f.write(bytes(8))
    with open_image(path) as img:
        assert img.bitmaps_stale
        assert img.bitmaps == []
    assert info_bitmaps(tools, path) == []


@pytest.mark.parametrize(
    "size,granularity",
    [
        (4 * TiB, 1024),  # the finest granularity qemu allows at 4 TiB
        (2 * TiB, 512),
    ],
)
def test_sparse_huge_image(tools, tmp_path, size, granularity):
    path = images.create(tools, tmp_path / "sparse.qcow2", size)
    qemu_img.bitmap(tools, str(path), "fine", "--add", granularity=granularity)
    writes = [(0, 4096), (TiB + 1000, 1), (size - 512, 512)]
    images.io(tools, path, *write_commands(writes))
    with open_image(path) as img:
        assert reader_bitmaps(img) == info_bitmaps(tools, path) == [("fine", ["auto"], granularity)]
        b = img.bitmaps[0]
        # 2**32 bits either way: 8192 bitmap clusters of 64 KiB, almost
        # all of them unallocated.
        assert b.table_size == size // granularity // (8 * img.header.cluster_size) == 8192
        extents = img.dirty_extents(b)
        count = img.dirty_count(b)
        allocated = img.allocated_extents()
    assert extents == expected_dirty(writes, granularity, size)
    assert (
        count
        == sum(length // granularity for _, length in extents)
        == (4096 // granularity + 1 + 1)
    )
    assert allocated == map_extents(tools, path)


def test_4tib_granularity_512_is_refused_by_qemu(tools, tmp_path):
    path = images.create(tools, tmp_path / "sparse.qcow2", "4T")
    with pytest.raises(command.CommandError) as refused:
        qemu_img.bitmap(tools, str(path), "too-fine", "--add", granularity=512)
    assert "Too much space" in refused.value.result.stderr
    with open_image(path) as img:
        assert img.bitmaps == []


def test_thousand_bitmaps(tools, tmp_path):
    path = images.create(tools, tmp_path / "many.qcow2", "1G")
    names = [f"bitmap-{i:04d}" for i in range(1000)]
    images.add_bitmaps(tools, path, names, granularity=65536)
    images.io(tools, path, "write -P 0x1 10M 64k")

    with open_image(path) as img:
        assert reader_bitmaps(img) == info_bitmaps(tools, path)
        # One transaction, listed in the order it added them.
        assert [b.name for b in img.bitmaps] == names
        assert all(
            (b.granularity, b.in_use, b.auto) == (64 * KiB, False, True) for b in img.bitmaps
        )
        assert all(img.dirty_extents(b) == [(10 * MiB, 64 * KiB)] for b in img.bitmaps)
        assert [img.dirty_count(b) for b in img.bitmaps] == [1] * 1000
