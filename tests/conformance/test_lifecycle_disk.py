"""conformance/lifecycle_disk.py on real qemu and real libnbd tools: the chain a
lifecycle operates, its backups as a backup application takes them, and their
restores, checked against the bytes the guest wrote."""

import dataclasses
import os
import shlex
import shutil
import subprocess

import pytest

from qcow2_conformance.conformance import lifecycle_disk
from qcow2_conformance.conformance.lifecycle_disk import (
    BackupError,
    ChainError,
    Disk,
    KiB,
    MiB,
)
from qcow2_conformance.implementations import registry
from qcow2_conformance.tools import command, files, hosts, nbd, processes, qemu_io, toolset

from support import ROOT

CLUSTER = 64 * KiB


@pytest.fixture
def usable(tools):
    reason = lifecycle_disk.unavailable(tools)
    if reason:
        pytest.skip(reason)
    return tools


class Guest:
    """A Disk and the bytes its guest wrote: the truth every restore is held against."""

    def __init__(self, disk):
        self.disk = disk
        self.truth = bytearray(disk.size)

    def write(self, offset, length, pattern):
        self.disk.write(offset, length, pattern)
        self.truth[offset : offset + length] = bytes([pattern]) * length

    def now(self):
        return bytes(self.truth)


def shell_program(path, script):
    """An executable sh script at path that runs script; its path, as a str."""
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)
    return str(path)


def copy_with(disk, program):
    """Make disk's backups copy with program instead of nbdcopy (nbdinfo stays)."""
    disk._nbd = nbd.NbdTools(disk.tools.host, disk._nbd.nbdinfo, program)


@pytest.fixture
def guest(usable, tmp_path):
    with Disk(usable, registry.resolve("reference"), str(tmp_path / "disk"), size=2 * MiB) as d:
        yield Guest(d)


def test_incremental_backup_is_the_written_clusters_and_restores_the_disk(usable, tmp_path):
    # Not a whole number of clusters: the last one is partial.
    size = 1 * MiB + 4 * KiB
    with Disk(usable, registry.resolve("reference"), str(tmp_path / "d"), size=size) as disk:
        guest = Guest(disk)
        guest.write(0, 3 * CLUSTER, 0x11)
        disk.checkpoint("c1")
        at_checkpoint = guest.now()
        guest.write(CLUSTER + 100, 1000, 0x22)  # inside one cluster
        guest.write(4 * CLUSTER - 10, 20, 0x33)  # across two
        guest.write(size - 700, 700, 0x44)  # the end of the partial cluster
        backup = disk.backup("c1")
        assert backup.extents == (
            (CLUSTER, CLUSTER),
            (3 * CLUSTER, 2 * CLUSTER),
            (16 * CLUSTER, 4 * KiB),
        )
        assert len(backup.data) == sum(length for _, length in backup.extents)
        assert disk.restore(backup, onto=at_checkpoint) == guest.now()
        assert disk.restore(disk.backup()) == guest.now()


def test_a_backup_spans_the_images_of_a_snapshot_by_the_implementation(guest):
    disk = guest.disk
    disk.checkpoint("c1")
    guest.write(0, 10, 0x11)
    facts = disk.snapshot()
    assert facts.exit_status == 0, facts.output
    assert len(disk.images) == 2
    assert [set(held) for held in disk.bitmaps()] == [{"c1"}, {"c1"}]
    guest.write(5 * CLUSTER, 10, 0x22)
    backup = disk.backup("c1")
    assert backup.extents == ((0, CLUSTER), (5 * CLUSTER, CLUSTER))
    assert disk.restore(backup) == guest.now()


def test_a_snapshot_that_carries_no_bitmap_breaks_the_chain(guest):
    disk = guest.disk
    disk.checkpoint("c1")
    guest.write(0, 10, 0x11)
    disk.foreign_snapshot()
    guest.write(5 * CLUSTER, 10, 0x22)
    held = disk.bitmaps()
    assert "c1" in held[0] and "c1" not in held[1]
    with pytest.raises(BackupError, match="has no bitmap 'c1'"):
        disk.backup("c1")
    # A full backup is always possible.
    assert disk.restore(disk.backup()) == guest.now()


def test_commits_by_the_implementation_keep_data_and_bitmaps(guest):
    disk = guest.disk
    guest.write(0, CLUSTER, 0x01)
    disk.checkpoint("c1")
    at_checkpoint = guest.now()
    guest.write(CLUSTER, 10, 0x11)
    disk.snapshot()
    guest.write(2 * CLUSTER, 10, 0x22)
    disk.snapshot()
    guest.write(3 * CLUSTER, 10, 0x33)
    base, middle, top = disk.images
    assert disk.commit(2, 1).exit_status == 0  # the active image into the one below
    assert disk.images == [base, middle]
    guest.write(4 * CLUSTER, 10, 0x44)
    assert disk.restore(disk.backup("c1"), onto=at_checkpoint) == guest.now()
    disk.snapshot()
    guest.write(6 * CLUSTER, 10, 0x66)
    assert disk.commit(1, 0).exit_status == 0  # an intermediate image into the base
    assert disk.images == [base, disk.images[-1]]
    backup = disk.backup("c1")
    assert backup.extents == ((CLUSTER, 4 * CLUSTER), (6 * CLUSTER, CLUSTER))
    assert disk.restore(backup, onto=at_checkpoint) == guest.now()
    assert disk.restore(disk.backup()) == guest.now()


def test_checkpoints_record_from_their_own_moment(guest):
    disk = guest.disk
    disk.checkpoint("c1", granularity=2 * CLUSTER)
    guest.write(0, 10, 0x11)
    disk.checkpoint("c2")
    at_c2 = guest.now()
    guest.write(4 * CLUSTER, 10, 0x22)
    assert disk.bitmaps()[0]["c1"].granularity == 2 * CLUSTER
    assert disk.backup("c1").extents == ((0, 2 * CLUSTER), (4 * CLUSTER, 2 * CLUSTER))
    assert disk.restore(disk.backup("c2"), onto=at_c2) == guest.now()


@pytest.mark.parametrize(
    "script, said",
    [
        # An overlay of its own, on nothing.
        (
            'exec "$QEMU_IMG" create -q -f qcow2 "$2" 2M',
            r"s1\.qcow2 is backed by nothing, expected /",
        ),
        # ACTIVE deleted, and a failure reported.
        ('rm -f "$1"; exit 1', r"base\.qcow2\) does not exist"),
    ],
    ids=["unlinked-overlay", "deleted-active"],
)
def test_a_chain_the_tool_broke_is_a_chain_error(usable, tmp_path, script, said):
    program = shell_program(tmp_path / "snapshot-tool", script)
    impl = registry.resolve(f"exec:{program}")
    with Disk(usable, impl, str(tmp_path / "disk"), size=2 * MiB) as disk:
        with pytest.raises(ChainError, match=said):
            disk.snapshot()


def test_an_inconsistent_bitmap_in_the_chain_refuses_the_backup(guest):
    disk = guest.disk
    disk.checkpoint("c1")
    qemu_io.open_and_die(disk.tools, disk.top)  # as a crashed writer leaves it
    assert disk.bitmaps()[0]["c1"].consistent is False
    with pytest.raises(BackupError, match="inconsistent"):
        disk.backup("c1")


@pytest.mark.parametrize(
    "client, timeout, said",
    [
        ("exit 1", 60, "exit status 1"),  # a client that cannot copy
        ("sleep 30", 1, "timed out after 1 s; the daemon and its clients were killed"),
    ],
    ids=["failing-client", "hanging-client"],
)
def test_a_failed_backup_leaves_no_daemon(guest, tmp_path, client, timeout, said):
    disk = guest.disk
    disk.checkpoint("c1")
    copy_with(disk, shell_program(tmp_path / "client", client))
    disk.timeout = timeout
    with pytest.raises(command.CommandError, match=said):
        disk.backup("c1")
    assert processes.marked(disk.tools.host, disk._mark) == {}
    guest.write(0, 10, 0x11)  # the daemon's read-only opens are gone too


def test_a_timed_out_backup_waits_for_a_daemon_slow_to_stop(guest, tmp_path):
    # CI under load once found the daemon still stopping (SIGTERM taken, images
    # not yet closed) when the timeout was reported. Here a shell between the
    # harness and the real daemon outlives the SIGTERM for good.
    disk = guest.disk
    disk.checkpoint("c1")
    daemon = shlex.quote(disk.tools.qemu_storage_daemon)
    slow = shell_program(
        tmp_path / "slow-daemon", f"trap 'sleep 30' TERM\n{daemon} \"$@\" <&0 &\nwait"
    )
    disk.tools = dataclasses.replace(disk.tools, qemu_storage_daemon=slow)
    copy_with(disk, shell_program(tmp_path / "client", "sleep 30"))
    disk.timeout = 1
    with pytest.raises(command.CommandError, match="the daemon and its clients were killed"):
        disk.backup("c1")
    assert processes.marked(disk.tools.host, disk._mark) == {}
    guest.write(0, 10, 0x11)


def test_a_backup_whose_shell_is_killed_says_so_and_leaves_no_daemon(guest, tmp_path):
    # A client that kills the shell that runs it: the daemon, its input's writer and
    # the shell's separators are left behind or missing.
    disk = guest.disk
    disk.checkpoint("c1")
    copy_with(disk, shell_program(tmp_path / "client", "kill -KILL $PPID"))
    with pytest.raises(command.CommandError) as failed:
        disk.backup("c1")
    said = str(failed.value)
    assert "the backup's shell ended before the daemon did (exit status 137)" in said
    assert "\n" not in said
    assert processes.marked(disk.tools.host, disk._mark) == {}
    guest.write(0, 10, 0x11)  # the daemon's read-only opens are gone too


def test_a_daemon_that_ends_early_says_how_and_what_it_logged(guest, tmp_path):
    # A writer that still holds the top (a VM, a tool's process not yet gone):
    # the daemon cannot take its lock and exits before any QMP answer.
    disk = guest.disk
    holder = qemu_io.hold(disk.tools, disk.top, str(tmp_path / "holder.log"))
    try:
        with pytest.raises(BackupError) as refused:
            disk.backup()
    finally:
        qemu_io.release(disk.tools, holder)
    said = str(refused.value)
    assert "ended early (exit status 1) after answering 0 of 3 QMP commands" in said
    assert "lock" in said and "\n" not in said.split("its log:")[0]
    assert processes.marked(disk.tools.host, disk._mark) == {}


def test_a_missing_nbd_client_is_one_line_naming_its_package(tools, tmp_path, monkeypatch):
    # Only what command.run itself needs: no nbdinfo.
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name in ("env", "timeout", "sh"):
        os.symlink(f"/usr/bin/{name}" if name != "sh" else "/bin/sh", bindir / name)
    monkeypatch.setenv("PATH", str(bindir))
    host = toolset.get_host()
    with pytest.raises(toolset.ToolError) as caught:
        nbd.find(host)
    said = str(caught.value)
    assert "\n" not in said
    assert said == (
        "nbdinfo not found on PATH: it comes with the Debian package libnbd-bin"
        " (apt-get install libnbd-bin)"
    )
    without = toolset.Toolset(host, *_paths(tools))
    assert lifecycle_disk.unavailable(without) == said
    with pytest.raises(toolset.ToolError) as caught:
        Disk(without, registry.resolve("reference"), str(tmp_path / "disk"))
    assert str(caught.value) == said


def _paths(tools):
    return tools.qemu_img, tools.qemu_io, tools.qemu_storage_daemon


def test_the_bootstrap_names_libnbd_bin_when_nbdinfo_is_missing(tmp_path):
    # A PATH with qemu and python3 but no libnbd tools, and no apt-get: the
    # bootstrap says what to install instead of installing it.
    bindir = tmp_path / "bin"
    bindir.mkdir()
    needed = ("cat", "sha256sum", "dirname", "sort", "tr", "id", "python3")
    needed += ("qemu-img", "qemu-io", "qemu-storage-daemon")
    for name in needed:
        os.symlink(shutil.which(name, path="/usr/bin:/bin"), bindir / name)
    out = subprocess.run(
        ["/bin/bash", "-c", 'source "$1"', "bash", os.path.join(ROOT, "bin", "bootstrap.sh")],
        env={"PATH": str(bindir)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert out.stderr == (
        "bootstrap: missing Debian packages: libnbd-bin;"
        " install them (as root: apt-get install libnbd-bin)\n"
    )


def test_a_disk_on_an_ssh_target_backs_up_and_restores(ssh_server):
    host = hosts.connect(
        ssh_server.url,
        ssh_config=ssh_server.ssh_config,
        ssh_identity_file=ssh_server.identity_file,
    )
    # A tmpfs only commands over ssh see: nothing of it can happen here.
    folder = os.path.join(ssh_server.private_dir, "lifecycle-disk")
    try:
        remote = toolset.find(host)
        reason = lifecycle_disk.unavailable(remote)
        if reason:
            pytest.skip(f"on the ssh target: {reason}")
        with Disk(remote, registry.resolve("reference"), folder, size=2 * MiB) as disk:
            guest = Guest(disk)
            disk.checkpoint("c1")
            guest.write(100, 5000, 0x11)
            guest.write(MiB - 10, 70 * KiB, 0x22)
            backup = disk.backup("c1")
            assert backup.extents == ((0, CLUSTER), (MiB - CLUSTER, 3 * CLUSTER))
            assert disk.restore(backup) == guest.now()
            assert disk.restore(disk.backup()) == guest.now()
    finally:
        # The remote tests expect the private folder empty.
        files.remove(host, folder)
        host.close()
    assert not os.path.exists(folder)
