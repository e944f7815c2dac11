"""The reference implementation passes every rule on every scenario, both ways."""

import dataclasses
import os
import sys

import pytest

from qcow2_conformance.implementations import reference
from qcow2_conformance.implementations.registry import Reference
from qcow2_conformance.tools import command, files, qemu_img, qemu_io, storage_daemon


@pytest.mark.parametrize("use_daemon", [True, False], ids=["storage-daemon", "qemu-img"])
def test_reference_passes_the_catalog(use_daemon, pipeline, catalog, tools):
    if use_daemon and tools.qemu_storage_daemon is None:
        pytest.skip(f"no qemu-storage-daemon beside {tools.qemu_img}")
    impl = Reference(f"reference-{'daemon' if use_daemon else 'qemu-img'}", use_daemon)
    failures = {}
    # Both procedures' catalogs.
    for scenario in catalog.values():
        verdicts = pipeline.verdicts(impl, scenario)
        bad = {k: v.message for k, v in verdicts.items() if v.outcome in ("failed", "error")}
        if bad:
            failures[scenario.name] = bad
    assert failures == {}


@pytest.fixture
def built(tools, chain_cache, catalog, tmp_path):
    return chain_cache.copy(catalog["mixed-interleaved"], str(tmp_path / "chain"))


def test_refuses_an_existing_overlay(tools, built, tmp_path):
    overlay = tmp_path / "overlay.qcow2"
    overlay.write_bytes(b"precious")
    with pytest.raises(reference.SnapshotError, match="already exists"):
        reference.snapshot(tools, built.active, str(overlay))
    assert overlay.read_bytes() == b"precious"


def test_leaves_nothing_behind_when_a_step_fails(tools, built, tmp_path):
    # A daemon that always fails makes the bitmap step fail after the
    # overlay was created under its temporary name.
    broken = tmp_path / "broken-daemon"
    broken.write_text("#!/bin/sh\necho 'injected failure' >&2\nexit 1\n")
    broken.chmod(0o755)
    failing = dataclasses.replace(tools, qemu_storage_daemon=str(broken))
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(command.CommandError, match="injected failure"):
        reference.snapshot(failing, built.active, str(folder / "overlay.qcow2"))
    assert os.listdir(folder) == []


def test_command_line(tools, built, tmp_path):
    overlay = tmp_path / "overlay.qcow2"
    env = {"QEMU_IMG": tools.qemu_img, "PYTHONPATH": os.getcwd()}
    out = command.run(
        tools.host,
        [
            sys.executable,
            "-m",
            "qcow2_conformance.implementations.reference",
            built.active,
            str(overlay),
        ],
        env=env,
        cwd=os.getcwd(),
    )
    assert "3 bitmaps carried" in out.stdout
    again = command.run(
        tools.host,
        [
            sys.executable,
            "-m",
            "qcow2_conformance.implementations.reference",
            built.active,
            str(overlay),
        ],
        env=env,
        check=False,
    )
    assert again.rc == 1
    assert again.stderr.startswith("error: ") and "already exists" in again.stderr
    assert files.exists(tools.host, str(overlay))


def test_the_daemon_reads_back_what_it_stored(tools, tmp_path):
    if tools.qemu_storage_daemon is None:
        pytest.skip(f"no qemu-storage-daemon beside {tools.qemu_img}")
    image = str(tmp_path / "overlay.qcow2")
    qemu_img.create(tools, image, size=64 << 20)
    qemu_img.bitmap(tools, image, "crashed", "--add")
    qemu_io.open_and_die(tools, image)
    script = str(tmp_path / "qmp")
    read = storage_daemon.add_bitmaps_read_back(
        tools, image, [("new", 4096, False), ("off", None, True)], script=script
    )
    # What was on disk before the run comes back too, as the file says it (in use:
    # inconsistent, which qemu never records into).
    assert sorted(read) == [
        ("crashed", 65536, False, True),
        ("new", 4096, True, False),
        ("off", 65536, False, False),
    ]
