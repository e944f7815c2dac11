"""The qemu-io wrapper: its holder (a running VM in locked-active) and its writes."""

import pytest

from qcow2_conformance.tools import command, qemu_img, qemu_io


def _locked(tools, path):
    return command.run(tools.host, [tools.qemu_img, "info", path], check=False).rc != 0


def test_the_holder_takes_the_lock_once_a_reader_lets_go(tools, tmp_path):
    image = str(tmp_path / "active.qcow2")
    qemu_img.create(tools, image, size=1 << 20)
    # A reader without -U forbids writers while it has the image open, as a
    # probe of the holder's lock does for a moment: the holder must retry.
    command.run(
        tools.host,
        [
            "sh",
            "-c",
            '"$@" > /dev/null 2>&1 &',
            "sh",
            tools.qemu_io,
            "-r",
            "-f",
            "qcow2",
            "-c",
            "sleep 1000",
            image,
        ],
    )
    pid = qemu_io.hold(tools, image, str(tmp_path / "holder.log"))
    try:
        assert _locked(tools, image)
    finally:
        qemu_io.release(tools, pid)
    assert not _locked(tools, image)


def test_one_process_writes_several_images_each_over_its_backing(tools, tmp_path):
    qemu_img.create(tools, str(tmp_path / "base.raw"), fmt="raw", size=1 << 20)
    qemu_img.create(
        tools, str(tmp_path / "top.qcow2"), backing="base.raw", backing_fmt="raw", size=1 << 20
    )
    writes = [("base.raw", "raw", [(0, 4096)], 0x11), ("top.qcow2", "qcow2", [(512, 512)], 0x22)]
    qemu_io.write_images(tools, str(tmp_path), writes, cache="unsafe")
    # The top's partial cluster holds the base's bytes around its own: base first.
    reads = ["read -P 0x11 0 512", "read -P 0x22 512 512", "read -P 0x11 1024 3072"]
    out = command.run(
        tools.host,
        [tools.qemu_io, "-r", "-f", "qcow2", *[a for r in reads for a in ("-c", r)], "top.qcow2"],
        cwd=str(tmp_path),
    )
    assert "Pattern verification failed" not in out.stdout + out.stderr


def test_names_that_qemu_io_would_split_are_refused(tools, tmp_path):
    with pytest.raises(ValueError, match="plain file name"):
        qemu_io.write_images(tools, str(tmp_path), [("a b.qcow2", "qcow2", [(0, 512)], 1)])
