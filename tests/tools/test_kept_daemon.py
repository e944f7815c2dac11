"""The daemon a process keeps does qemu's steps as the programs it replaces do them."""

import os
import shutil

import pytest

from qcow2_conformance.fixtures import chain
from qcow2_conformance.observe import baseline, inspect
from qcow2_conformance.observe.reader import image_facts
from qcow2_conformance.observe.snapshot_run import PROBE_PATTERN, probe_writes
from qcow2_conformance.tools import command, kept_daemon, qemu_img, qemu_io

# Chains with bitmaps of one name on several images, and a checkpoint dirty on
# more than one (the merges); the first two have in-use bitmaps too.
MERGED = ["chain-depth-5", "commit-several-deep", "commit-created-in-base", "chain-depth-2"]


@pytest.fixture
def kept_tools(tools):
    if not kept_daemon.usable(tools):
        pytest.skip(f"{tools.release or tools.qemu_img}: no kept daemon (qemu 6.0 or later here)")
    return tools


def _built(tools, scenario, folder):
    os.makedirs(folder)
    return chain.build(tools, scenario, folder)


def _facts(path):
    facts = image_facts(path, "image")
    return {k: v for k, v in facts.items() if k not in ("path", "backing_path")}


@pytest.mark.parametrize("name", ["two-recording", "inconsistent-recording-alone", *MERGED])
def test_the_probes_writes_leave_what_qemu_ios_leave(kept_tools, catalog, tmp_path, name):
    scenario = catalog[name]
    built = _built(kept_tools, scenario, str(tmp_path / "qemu-io"))
    shutil.copytree(built.folder, tmp_path / "daemon")
    top = built.paths[-1]
    writes = probe_writes(image_facts(top, "top")["virtual_size"])
    qemu_io.write(kept_tools, top, writes, pattern=PROBE_PATTERN)
    kept_daemon.write(
        kept_tools, str(tmp_path / "daemon" / os.path.basename(top)), writes, pattern=PROBE_PATTERN
    )
    for file in os.listdir(built.folder):
        assert _facts(tmp_path / "daemon" / file) == _facts(os.path.join(built.folder, file))
    # Closed again: nothing holds the image, whose lock a plain qemu-img info needs.
    qemu_img.info(kept_tools, str(tmp_path / "daemon" / os.path.basename(top)))


@pytest.mark.parametrize("name", MERGED)
def test_qemus_merges_are_the_same_from_the_kept_daemon(
    kept_tools, catalog, tmp_path, monkeypatch, name
):
    scenario = catalog[name]
    built = _built(kept_tools, scenario, str(tmp_path / "chain"))
    images = inspect.chain_facts(kept_tools, built.paths)
    merges = {}
    for checkpoint in scenario.dirty_checkpoints():
        holders = [i for i in images if i.bitmap(checkpoint) and not i.bitmap(checkpoint).in_use]
        if holders and len({i.virtual_size for i in holders}) == 1:
            merges[checkpoint] = holders
    assert merges
    ways = {}
    for way, kept in (("one daemon a chain", False), ("kept daemon", True)):
        monkeypatch.setattr(kept_daemon, "usable", lambda tools, kept=kept: kept)
        ways[way] = baseline._daemon_merges(kept_tools, images, merges, str(tmp_path))
    assert ways["kept daemon"] == ways["one daemon a chain"]
    assert any(ways["kept daemon"].values())
    for path in built.paths:
        qemu_img.info(kept_tools, path)  # no lock left


def test_an_image_qemu_cannot_open_is_refused_with_its_reason(kept_tools, tmp_path):
    broken = tmp_path / "broken.qcow2"
    broken.write_bytes(b"QFI\xfb" + bytes(508))
    with pytest.raises(command.CommandError, match="qemu refused blockdev-add"):
        kept_daemon.write(kept_tools, str(broken), [(0, 512)], pattern=PROBE_PATTERN)
    # A refused open leaves nothing open: the same daemon goes on.
    running = kept_daemon.running()
    assert running is not None and running.session.alive
    image = str(tmp_path / "image.qcow2")
    qemu_img.create(kept_tools, image, fmt="qcow2", size=1 << 20)
    kept_daemon.write(kept_tools, image, [(0, 512)], pattern=PROBE_PATTERN)
    assert kept_daemon.running() is running


def test_a_write_that_fails_midway_stops_the_daemon(kept_tools, tmp_path, monkeypatch):
    image = str(tmp_path / "image.qcow2")
    qemu_img.create(kept_tools, image, fmt="qcow2", size=1 << 20)
    kept_daemon.write(kept_tools, image, [(0, 512)], pattern=PROBE_PATTERN)
    first = kept_daemon.running().session.proc

    def broken(*args, **kwargs):
        raise OSError("the NBD server went away")

    # The image is open in the daemon when the write fails.
    monkeypatch.setattr(kept_daemon.nbd_write, "write", broken)
    with pytest.raises(command.CommandError, match="went away"):
        kept_daemon.write(kept_tools, image, [(0, 512)], pattern=PROBE_PATTERN)
    assert kept_daemon.running() is None and first.poll() is not None
    monkeypatch.undo()
    qemu_img.info(kept_tools, image)  # the killed daemon's lock went with it
    kept_daemon.write(kept_tools, image, [(0, 512)], pattern=PROBE_PATTERN)
    assert kept_daemon.running().session.proc.pid != first.pid


def test_an_image_in_a_folder_that_does_not_exist_gets_qemus_words(kept_tools, tmp_path):
    # The empty file is made here; where it cannot be, qemu makes it and says why.
    path = str(tmp_path / "no-such-folder" / "image.qcow2")
    with pytest.raises(command.CommandError, match="Could not create .*No such file or directory"):
        kept_daemon.create(kept_tools, path, virtual_size=1 << 20)
    assert os.listdir(tmp_path) == []
