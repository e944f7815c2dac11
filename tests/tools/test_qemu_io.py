"""The qemu-io wrapper's holder: it stands for a running VM in locked-active."""

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
