"""Bytes written through an NBD export land where qemu-io's write puts them."""

import os

import pytest

from qcow2_conformance.tools import command, daemon_session, nbd_write, qemu_img, qemu_io


@pytest.fixture
def exported(tools, tmp_path):
    """(socket, image, close) of a 4 MiB qcow2 image exported writable as "e" by a
    daemon; close() ends the export and closes the image, as the fixture's end does."""
    if not daemon_session.usable(tools):
        pytest.skip(f"no qemu-storage-daemon on this machine beside {tools.qemu_img}")
    image = str(tmp_path / "a.qcow2")
    qemu_img.create(tools, image, fmt="qcow2", size=4 << 20)
    socket = str(tmp_path / "s")
    if len(socket) > 107:
        pytest.skip(f"{socket} is too long for a UNIX socket")
    node = {"driver": "qcow2", "node-name": "a", "file": {"driver": "file", "filename": image}}
    with daemon_session.Session(tools, blockdevs=[node]) as daemon:
        daemon.execute("nbd-server-start", {"addr": {"type": "unix", "data": {"path": socket}}})
        export = {"type": "nbd", "id": "e", "node-name": "a", "name": "e", "writable": True}
        daemon.execute("block-export-add", export)
        open_ = [True]

        def close():
            # qemu keeps the image's tables in memory until it closes it.
            if open_.pop() if open_ else False:
                daemon.execute("block-export-del", {"id": "e", "mode": "hard"})
                daemon.wait_for("BLOCK_EXPORT_DELETED", id="e")
                daemon.execute("blockdev-del", {"node-name": "a"})

        yield socket, image, close
        close()


WRITES = [(0, 512, 0x11), (70000, 3000, 0x22), ((4 << 20) - 512, 512, 0x33)]


def test_the_written_image_is_qemu_ios(exported, tools, tmp_path):
    socket, image, close = exported
    nbd_write.write(socket, "e", WRITES)
    close()
    reference = str(tmp_path / "b.qcow2")
    qemu_img.create(tools, reference, fmt="qcow2", size=4 << 20)
    for offset, length, value in WRITES:
        qemu_io.write(tools, reference, [(offset, length)], pattern=value)
    compare = [tools.qemu_img, "compare", "-f", "qcow2", "-F", "qcow2", image, reference]
    assert command.run(tools.host, compare, check=False).rc == 0


def test_a_write_bigger_than_one_request_is_split(exported, tools, monkeypatch):
    socket, image, close = exported
    monkeypatch.setattr(nbd_write, "MAX_REQUEST", 4096)
    nbd_write.write(socket, "e", [(8192, 3 * 4096 + 512, 0x44)])
    close()
    read = ["read -P 0x44 8192 12800", "read -P 0 0 8192", "read -P 0 20992 512"]
    argv = [tools.qemu_io, "-r", "-f", "qcow2", *sum((["-c", c] for c in read), []), image]
    out = command.run(tools.host, argv)
    assert "verification failed" not in out.stdout + out.stderr


def test_an_unknown_export_is_named_in_the_error(exported):
    socket, _, _ = exported
    with pytest.raises(nbd_write.NbdError, match="no export 'elsewhere'"):
        nbd_write.write(socket, "elsewhere", WRITES)


def test_a_write_past_the_end_is_refused_with_where_it_was(exported):
    socket, _, _ = exported
    with pytest.raises(nbd_write.NbdError, match=f"at {4 << 20}"):
        nbd_write.write(socket, "e", [(4 << 20, 512, 0x55)])


def test_no_server_is_a_connection_error(tmp_path):
    with pytest.raises(OSError):
        nbd_write.write(str(tmp_path / "none"), "e", WRITES)
    assert not os.path.exists(tmp_path / "none")
