"""The reference implementation passes every rule on every scenario, both ways."""

import dataclasses
import os
import sys

import pytest

from qcow2_conformance.implementations import reference
from qcow2_conformance.implementations.registry import Reference
from qcow2_conformance.tools import command, files, kept_daemon, qemu_img, qemu_io, storage_daemon


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


def test_leaves_nothing_behind_when_a_step_fails(tools, built, tmp_path, monkeypatch):
    # A daemon that always fails makes the bitmap step fail after the
    # overlay was created under its temporary name (by qemu-img create: the
    # way without a kept daemon).
    monkeypatch.setattr(kept_daemon, "SINCE", (999, 0))
    broken = tmp_path / "broken-daemon"
    broken.write_text("#!/bin/sh\necho 'injected failure' >&2\nexit 1\n")
    broken.chmod(0o755)
    failing = dataclasses.replace(tools, qemu_storage_daemon=str(broken))
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(command.CommandError, match="injected failure"):
        reference.snapshot(failing, built.active, str(folder / "overlay.qcow2"))
    assert os.listdir(folder) == []


def test_leaves_nothing_behind_when_the_kept_daemon_refuses_a_bitmap(
    tools, built, tmp_path, monkeypatch
):
    if not kept_daemon.usable(tools):
        pytest.skip(f"no kept qemu-storage-daemon with {tools.qemu_img} (qemu 6.0 on)")

    def bad_granularity(node, name, granularity=None, *, disabled=False):
        return storage_daemon.add_action(node, name, 3, disabled=disabled)

    # qemu itself refuses the bitmap, once the overlay exists under its temporary name.
    monkeypatch.setattr(kept_daemon, "add_action", bad_granularity)
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(command.CommandError, match="[Gg]ranularity"):
        reference.snapshot(tools, built.active, str(folder / "overlay.qcow2"))
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


def test_the_kept_daemons_overlay_is_the_programs_byte_for_byte(
    tools, chain_cache, catalog, tmp_path, monkeypatch
):
    if not kept_daemon.usable(tools):
        pytest.skip(f"no kept qemu-storage-daemon with {tools.qemu_img} (qemu 6.0 on)")
    different, kept_since = [], kept_daemon.SINCE
    for scenario in catalog.values():
        if scenario.procedure != "snapshot":
            continue
        built = chain_cache.copy(scenario, str(tmp_path / scenario.name))
        made = {}
        for way, since in (("kept daemon", kept_since), ("programs", (999, 0))):
            monkeypatch.setattr(kept_daemon, "SINCE", since)
            overlay = tmp_path / scenario.name / f"overlay-{since[0]}.qcow2"
            reference.snapshot(tools, built.active, str(overlay))
            made[way] = overlay.read_bytes()
        if made["kept daemon"] != made["programs"]:
            different.append(scenario.name)
    assert different == []


@pytest.mark.parametrize("kept", [True, False], ids=["kept-daemon", "programs"])
def test_an_active_qemu_cannot_open_gets_qemu_img_infos_words(tools, tmp_path, monkeypatch, kept):
    if not kept:
        monkeypatch.setattr(kept_daemon, "SINCE", (999, 0))
    with pytest.raises(command.CommandError) as missing:
        reference.snapshot(tools, str(tmp_path / "absent.qcow2"), str(tmp_path / "overlay.qcow2"))
    assert str(missing.value).startswith(f"{tools.qemu_img} info failed")
    assert "No such file or directory" in str(missing.value)
    assert os.listdir(tmp_path) == []
