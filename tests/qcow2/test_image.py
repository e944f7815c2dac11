"""probe_format, open_image and the Qcow2Image facade."""

import os
import struct

import pytest

from qcow2_conformance import qcow2
from qcow2_conformance.qcow2 import Qcow2Error, Qcow2Image, dirty, fileio, open_image, probe_format

import craft


def test_public_api():
    assert set(qcow2.__all__) == {
        "Bitmap",
        "Extent",
        "Header",
        "Qcow2Error",
        "Qcow2Image",
        "open_image",
        "probe_format",
    }
    assert issubclass(Qcow2Error, ValueError)


@pytest.mark.parametrize(
    "data,expected",
    [
        (craft.image(), "qcow2"),
        (b"QFI\xfb", "qcow2"),
        (b"QFI", "raw"),
        (b"", "raw"),
        (bytes(4096), "raw"),
        (b"QFI\xfa" + bytes(100), "raw"),
    ],
)
def test_probe_format(tmp_path, data, expected):
    assert probe_format(craft.write(tmp_path, data)) == expected


def test_probe_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        probe_format(tmp_path / "missing")


def test_open_raw(tmp_path):
    with pytest.raises(Qcow2Error, match="is not a qcow2 image"):
        open_image(craft.write(tmp_path, bytes(4096)))


def test_open_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        open_image(tmp_path / "missing")


def open_fds():
    return len(os.listdir("/proc/self/fd"))


def test_failed_open_closes_file(tmp_path):
    path = craft.write(tmp_path, craft.image(craft.header(version=9)))
    before = open_fds()
    for _ in range(10):
        with pytest.raises(Qcow2Error):
            open_image(path)
    assert open_fds() == before


def test_context_manager_closes(tmp_path):
    path = craft.write(tmp_path, craft.image())
    before = open_fds()
    with open_image(path) as img:
        assert isinstance(img, Qcow2Image)
        assert open_fds() == before + 1
    assert open_fds() == before
    img.close()  # closing twice is harmless


def test_accepts_str_and_pathlike(tmp_path):
    path = craft.write(tmp_path, craft.image())
    with open_image(str(path)) as a, open_image(path) as b:
        assert a.header == b.header


def test_repr(tmp_path):
    path = craft.write(tmp_path, craft.image())
    with open_image(path) as img:
        assert repr(img) == (f"<Qcow2Image {str(path)!r} compat=1.1 size=1048576 bitmaps=0>")


def test_returned_collections_are_copies(tmp_path):
    ext = craft.extension(craft.FEATURE_TABLE, craft.feature(0, 0, "dirty"))
    with open_image(craft.write(tmp_path, craft.image(exts=[ext]))) as img:
        img.extensions.clear()
        img.feature_names.clear()
        assert img.extensions
        assert img.feature_names


@pytest.mark.parametrize(
    "error",
    [
        struct.error("bad"),
        IndexError("bad"),
        UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad"),
        OverflowError("bad"),
        ValueError("bad"),
    ],
)
def test_parsing_bugs_become_qcow2_errors(tmp_path, monkeypatch, error):
    entry = craft.dir_entry("b", 4 * 512, 1, granularity_bits=16)
    data = craft.bitmap_image([entry], clusters={4: craft.u64s(0)})
    path = craft.write(tmp_path, data)

    def broken(*args):
        raise error

    monkeypatch.setattr(dirty, "dirty_extents", broken)
    with open_image(path) as img:
        with pytest.raises(Qcow2Error, match="internal error while parsing"):
            img.dirty_extents(img.bitmaps[0])


def test_os_errors_pass_through(tmp_path, monkeypatch):
    path = craft.write(tmp_path, craft.image())

    def broken(*args):
        raise OSError(5, "Input/output error")

    with open_image(path) as img:
        monkeypatch.setattr(qcow2.clusters, "allocated_extents", broken)
        with pytest.raises(OSError) as e:
            img.allocated_extents()
        assert not isinstance(e.value, Qcow2Error)


def test_reads_in_small_chunks(tmp_path, monkeypatch):
    # Reads bigger than fileio.MAX_READ are split; shrink it to exercise
    # the loop with an ordinary image.
    l2 = craft.u64s(*[(8 + i) * 512 | 1 << 63 for i in range(4)])
    data = craft.image(clusters={2: craft.u64s(4 * 512 | 1 << 63), 4: l2, 8: bytes(range(256)) * 8})
    path = craft.write(tmp_path, data)
    with open_image(path) as img:
        expected = img.data_digest()
    monkeypatch.setattr(fileio, "MAX_READ", 7)
    with open_image(path) as img:
        assert img.data_digest() == expected


def test_file_shrinking_under_the_reader(tmp_path):
    l2 = craft.u64s(8 * 512 | 1 << 63)
    data = craft.image(clusters={2: craft.u64s(4 * 512 | 1 << 63), 4: l2, 8: bytes(512)})
    path = craft.write(tmp_path, data)
    with open_image(path) as img:
        os.truncate(path, 8 * 512 + 100)
        with pytest.raises(
            Qcow2Error,
            match=r"^data cluster at offset "
            r"0x1064: unexpected end of "
            r"file",
        ):
            img.data_digest()
