"""Property: on a damaged real image the reader either parses everything
consistently or raises Qcow2Error with a located message, never another
exception."""

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qcow2_conformance.qcow2 import Qcow2Error, open_image
from qcow2_conformance.tools import qemu_img

import craft
import images

MiB = 2**20

INTERESTING = [
    0,
    1,
    7,
    8,
    9,
    21,
    22,
    31,
    32,
    63,
    64,
    255,
    256,
    511,
    512,
    1023,
    1024,
    4096,
    65535,
    65536,
    2**20,
    2**24,
    2**31 - 1,
    2**31,
    2**32 - 1,
    2**32,
    2**56,
    2**62,
    2**63,
    2**64 - 1,
]


def build_images(tools, root):
    """A few small images covering the structures the reader parses."""
    built = {}

    base = images.create(tools, root / "base.qcow2", "8M")
    a = images.create(tools, root / "a.qcow2", "8M", backing=base)
    qemu_img.bitmap(tools, str(a), "fine", "--add", granularity=512)
    qemu_img.bitmap(tools, str(a), "off", "--add", "--disable")
    images.io(
        tools,
        a,
        "write -P 0x1 0 100k",
        "write -z 1M 1M",
        "write -P 0x2 7M 8k",
        "write -c -P 0x3 4M 64k",
    )
    built["backing+bitmaps"] = a

    b = images.create(tools, root / "b.qcow2", "8M", "cluster_size=512")
    qemu_img.bitmap(tools, str(b), "g512", "--add", granularity=512)
    qemu_img.bitmap(tools, str(b), "name with\nnewline \u00e4", "--add", granularity=4096)
    images.io(
        tools,
        b,
        "write -P 0x4 0 1536",
        "write -P 0x5 1M 5k",
        "write -z 2M 4k",
        "write -c -P 0x6 3M 512",
        "write -P 0x7 8388096 512",
    )
    built["small-clusters"] = b

    c = images.create(tools, root / "c.qcow2", "16M", "compat=0.10", backing=base)
    images.io(tools, c, "write -P 0x8 0 64k", "write -P 0x9 15M 1M")
    built["v2"] = c

    d = images.create(tools, root / "d.qcow2", "8M")
    qemu_img.bitmap(tools, str(d), "crashed", "--add", granularity=65536)
    qemu_img.bitmap(tools, str(d), "full", "--add", granularity=1024)
    images.crash(tools, d, "write -P 0xa 0 8M")
    built["in-use"] = d

    return {name: path.read_bytes() for name, path in built.items()}


def areas(data, path):
    """Byte ranges worth damaging, found by parsing the pristine image."""
    result = [("anywhere", 0, len(data))]
    with open_image(path) as img:
        h = img.header
        cs = h.cluster_size
        ext_end = h.backing_file_offset or cs
        result.append(("header", 0, h.header_length))
        result.append(("extensions", h.header_length, ext_end))
        if h.backing_file_offset:
            result.append(
                ("backing name", h.backing_file_offset, h.backing_file_offset + h.backing_file_size)
            )
        for etype, offset, _length in img.extensions:
            if etype == craft.BITMAPS:
                _, _, size, start = struct.unpack_from(">IIQQ", data, offset + 8)
                result.append(("bitmap directory", start, start + size))
        for b in img.bitmaps:
            end = b.table_offset + b.table_size * 8
            result.append(("bitmap table", b.table_offset, end))
            for (entry,) in struct.iter_unpack(">Q", data[b.table_offset : end]):
                offset = entry & 0x00FFFFFFFFFFFE00
                if offset:
                    result.append(("bitmap data", offset, offset + cs))
        l1_end = h.l1_table_offset + h.l1_size * 8
        result.append(("L1 table", h.l1_table_offset, l1_end))
        for (entry,) in struct.iter_unpack(">Q", data[h.l1_table_offset : l1_end]):
            offset = entry & 0x00FFFFFFFFFFFE00
            if offset:
                result.append(("L2 table", offset, offset + cs))
    return result


@pytest.fixture(scope="module")
def pristine(tools, tmp_path_factory):
    """{name: (bytes, areas)} of the images build_images makes, once per module."""
    root = tmp_path_factory.mktemp("fuzz-images")
    built = build_images(tools, root)
    result = {}
    for name, data in built.items():
        path = root / f"{name}.pristine"
        path.write_bytes(data)
        result[name] = (data, areas(data, path))
    return result


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz-work")


def check_extents(extents, size, merged=True):
    """Sorted, disjoint, inside the disk; merged ones never touch."""
    end = -1
    for offset, length in extents:
        assert length > 0
        assert offset > end if merged else offset >= end
        end = offset + length
    assert end <= size


def parse_everything(path):
    """Everything a caller can ask; returns a summary for sanity checks."""
    with open_image(path) as img:
        h = img.header
        summary = [
            h,
            img.compat,
            img.backing_file,
            img.backing_format,
            img.feature_names,
            img.data_file,
            img.extensions,
        ]
        for b in img.bitmaps:
            extents = img.dirty_extents(b)
            count = img.dirty_count(b)
            check_extents(extents, h.size)
            assert count == sum(-(-length // b.granularity) for _, length in extents)
            summary.append((b, extents))
        allocated = img.allocated_extents()
        check_extents([(e.offset, e.length) for e in allocated], h.size, merged=False)
        for prev, cur in zip(allocated, allocated[1:]):
            assert prev.offset + prev.length < cur.offset or (prev.kind != cur.kind)
        assert {e.kind for e in allocated} <= {"data", "zero", "compressed"}
        summary.append(allocated)
        summary.append(img.data_digest())
    return summary


def test_pristine_images_parse(pristine, workdir):
    for name, (data, area_list) in pristine.items():
        path = workdir / name
        path.write_bytes(data)
        summary = parse_everything(path)
        assert summary[-2], name  # every image maps some data
        labels = {label for label, _, _ in area_list}
        assert {"header", "extensions", "L1 table", "L2 table"} <= labels


edit = st.one_of(
    st.binary(min_size=1, max_size=8),
    st.builds(
        lambda value, size: (value % 2 ** (8 * size)).to_bytes(size, "big"),
        st.sampled_from(INTERESTING),
        st.sampled_from([1, 2, 4, 8]),
    ),
)


@settings(
    max_examples=1500,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_damaged_images(pristine, workdir, data):
    name = data.draw(st.sampled_from(sorted(pristine)), label="image")
    original, area_list = pristine[name]
    kind = data.draw(st.sampled_from(sorted({a[0] for a in area_list})), label="area")
    _, start, end = data.draw(
        st.sampled_from([a for a in area_list if a[0] == kind]), label="range"
    )
    buf = bytearray(original)
    for _ in range(data.draw(st.integers(1, 6), label="edits")):
        offset = data.draw(st.integers(start, max(start, end - 1)), label="offset")
        value = data.draw(edit, label="bytes")
        buf[offset : offset + len(value)] = value
    if data.draw(st.integers(0, 9), label="truncate?") == 0:
        del buf[data.draw(st.integers(0, len(buf)), label="length") :]

    path = workdir / "damaged.qcow2"
    path.write_bytes(buf)
    try:
        parse_everything(path)
    except Qcow2Error as e:
        assert "internal error" not in str(e)
        assert " at offset 0x" in str(e) or "not supported" in str(e), e
