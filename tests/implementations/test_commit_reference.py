"""The reference commit on real chains: data, relink, carried bitmaps, refusals, both ways.

The chains are made by fixtures/chain.py from scenarios written here; what
the reference left is read with the harness's own qcow2 reader.
"""

import hashlib
import os
import sys

import pytest

from qcow2_conformance.implementations import commit_reference
from qcow2_conformance.implementations.registry import resolve
from qcow2_conformance.observe.extents import describe, uncovered, union_of
from qcow2_conformance.observe.inspect import image_facts
from qcow2_conformance.scenarios.model import (
    DISABLED,
    INCONSISTENT_RECORDING,
    RECORDING,
    Bitmap,
    Image,
    Scenario,
)
from qcow2_conformance.tools import command, qemu_img, qemu_io

from support import ROOT

K, M = 1 << 10, 1 << 20


def bitmap(name, state=RECORDING, granularity=None, dirty=()):
    return Bitmap(name, state, granularity, tuple(dirty))


def image(*bitmaps, fmt="qcow2", size=None, data=()):
    return Image(fmt, size, None, tuple(data), tuple(bitmaps))


def scenario(name, *images):
    return Scenario(f"commit-test-{name}", "commit-test", name, tuple(images), __file__)


# layer0 <- layer1 <- layer2 <- layer3 <- active, every role with bitmaps in
# several states and dirty bits at offsets of its own.
FIVE = scenario(
    "five",
    image(
        bitmap("cp0", dirty=[(0, 64 * K)]),
        bitmap("low", dirty=[(0, 64 * K)]),
        size=8 * M,
        data=[(7 * M, 64 * K)],
    ),
    image(
        bitmap("cp0", dirty=[(1 * M, 64 * K)]),
        bitmap("cp1", granularity=64 * K, dirty=[(1 * M, 64 * K)]),
        bitmap("other", dirty=[(1 * M, 64 * K)]),
        bitmap("stale", DISABLED, dirty=[(1 * M, 64 * K)]),
        bitmap("gap", DISABLED),
        data=[(6 * M, 64 * K)],
    ),
    image(
        bitmap("cp0", dirty=[(2 * M, 64 * K)]),
        bitmap("cp1", granularity=128 * K, dirty=[(2 * M, 64 * K)]),
        bitmap("cp2", granularity=1 * M, dirty=[(2 * M + 512 * K, 4 * K)]),
        data=[(5 * M, 64 * K)],
    ),
    image(
        # qemu stores the inconsistent bitmaps first: the builder makes them first.
        bitmap("broken", INCONSISTENT_RECORDING),
        bitmap("cp0", dirty=[(3 * M, 64 * K)]),
        bitmap("cp1", dirty=[(3 * M, 64 * K)]),
        bitmap("cp2", granularity=256 * K, dirty=[(3 * M, 4 * K)]),
        bitmap("cp3", granularity=512 * K, dirty=[(3 * M + 64 * K, 4 * K)]),
        bitmap("gap", dirty=[(3 * M + 128 * K, 4 * K)]),
        bitmap("off", DISABLED, dirty=[(3 * M, 64 * K)]),
        data=[(1 * M, 4 * K)],
    ),
    image(
        bitmap("cp0", dirty=[(4 * M, 64 * K)]),
        bitmap("cp3", dirty=[(4 * M, 4 * K)]),
        bitmap("new", granularity=2 * M, dirty=[(4 * M + 64 * K, 4 * K)]),
        data=[(2 * M, 4 * K)],
    ),
)

# (COMMIT_TOP, COMMIT_BASE, ABOVE) as indexes into FIVE, and the names that
# must be carried: those whose chain is valid at COMMIT_TOP.
COMMITS = {
    # cp3 and new start at the top; cp0's run reaches layer0, all recording.
    "active": (4, 1, None, {"cp0", "cp3", "new"}),
    # gap: layer2 lacks it and layer1 holds it again, so its chain at layer3
    # has a gap: not valid, not carried, and layer1's disabled gap is untouched.
    "intermediate": (3, 1, 4, {"cp0", "cp1", "cp2", "cp3"}),
    "subchain-of-one": (2, 1, 3, {"cp0", "cp1", "cp2"}),
}


def commit_paths(built, top, base, above):
    """COMMIT_TOP, COMMIT_BASE and ABOVE (None for an active commit) as paths."""
    paths = built.paths
    return paths[top], paths[base], None if above is None else paths[above]


@pytest.mark.parametrize("use_daemon", [True, False], ids=["storage-daemon", "qemu-img"])
@pytest.mark.parametrize("kind", COMMITS)
def test_commits_data_and_carries_every_valid_checkpoint(
    tools, chain_cache, tmp_path, kind, use_daemon
):
    top, base, above, carried = COMMITS[kind]
    pristine = chain_cache.pristine(FIVE)
    built = chain_cache.copy(FIVE, str(tmp_path / "chain"))
    before = [image_facts(tools, p, f"image{i}") for i, p in enumerate(built.paths)]
    impl = resolve("reference" if use_daemon else "reference-qemu-img")
    run = impl.commit(tools, *commit_paths(built, top, base, above), cwd=str(tmp_path), timeout=120)
    assert run.exit_status == 0, run.output
    after = [image_facts(tools, p, f"image{i}") for i, p in enumerate(built.paths)]
    new_top = built.paths[above if above is not None else base]
    old_top = pristine.paths[above if above is not None else top]
    same, said = qemu_img.compare(tools, new_top, old_top)
    assert same, said
    if above is not None:
        assert after[above].backing_path == built.paths[base]
        assert after[above].backing_format == "qcow2"
        # The old name was relative; so is the new one.
        assert after[above].backing_file == os.path.basename(built.paths[base])
    # COMMIT_BASE's own link and everything below it are as they were.
    assert after[base].backing_file == before[base].backing_file
    for i in range(base):
        assert after[i] == before[i]
    # The walked images are read, never changed, in what the reader sees.
    for i in range(base + 1, top + 1):
        assert (after[i].bitmaps, after[i].data_digest) == (
            before[i].bitmaps,
            before[i].data_digest,
        )
    # No corruption, no leaked cluster.
    for i in (base,) if above is None else (base, above):
        assert qemu_img.check(tools, built.paths[i])["exit-status"] == 0
    old, new = before[base], after[base]
    assert set(new.names) == set(old.names) | carried
    for name in carried:
        walked = []
        for i in range(top, base, -1):
            if before[i].bitmap(name) is None:
                break
            walked.append(before[i])
        got, had = new.bitmap(name), old.bitmap(name)
        assert got.granularity == (had or before[top].bitmap(name)).granularity
        assert not got.in_use
        assert got.auto == (had.auto if had else True)
        missing = uncovered(union_of([old, *walked], name), got.dirty)
        assert missing == [], f"{name}: {describe(missing)} not dirty in COMMIT_BASE"
    for had in old.bitmaps:
        if had.name in carried:
            continue
        got = new.bitmap(had.name)
        assert (got.in_use, got.auto, got.granularity) == (had.in_use, had.auto, had.granularity)
        assert uncovered(had.dirty, got.dirty) == []


def digests(folder):
    """Every file in folder and the sha256 of its bytes."""
    found = {}
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as f:
            found[name] = hashlib.sha256(f.read()).hexdigest()
    return found


# Refusals on chains of their own: (scenario, COMMIT_TOP, COMMIT_BASE, ABOVE, message).
RAW_BASE = scenario(
    "raw-base", image(fmt="raw", size=4 * M, data=[(0, 64 * K)]), image(bitmap("cp"))
)
V2_BASE = scenario("v2-base", image(fmt="qcow2-v2", size=4 * M), image(bitmap("cp")))
INCONSISTENT_TARGET = scenario(
    "inconsistent-target",
    image(bitmap("cp", INCONSISTENT_RECORDING), size=4 * M),
    image(),
    image(bitmap("cp", dirty=[(0, 4 * K)])),
)
LARGER_BASE = scenario(
    "larger-base", image(size=8 * M, data=[(6 * M, 64 * K)]), image(bitmap("cp"), size=4 * M)
)
REFUSALS = {
    "base-larger-than-top": (LARGER_BASE, 1, 0, None, "is larger than COMMIT_TOP"),
    "base-not-in-chain": (FIVE, 3, 4, None, "not in the backing chain"),
    "base-is-top": (FIVE, 3, 3, None, "is COMMIT_TOP itself"),
    "above-not-on-top": (FIVE, 2, 1, 4, "not by COMMIT_TOP"),
    "raw-base-needs-bitmaps": (RAW_BASE, 1, 0, None, "is a raw image, which cannot hold bitmaps"),
    "v2-base-needs-bitmaps": (V2_BASE, 1, 0, None, "is a qcow2 v2 .compat 0.10. image"),
}


@pytest.mark.parametrize("use_daemon", [True, False], ids=["storage-daemon", "qemu-img"])
@pytest.mark.parametrize("case", REFUSALS)
def test_refuses_and_changes_nothing(tools, chain_cache, tmp_path, case, use_daemon):
    chosen, top, base, above, message = REFUSALS[case]
    built = chain_cache.copy(chosen, str(tmp_path / "chain"))
    before = digests(built.folder)
    used = tools if use_daemon else tools.without_storage_daemon()
    with pytest.raises(commit_reference.CommitError, match=message):
        commit_reference.commit(used, *commit_paths(built, top, base, above), timeout=60)
    assert digests(built.folder) == before


@pytest.mark.parametrize("held", [1, 4], ids=["COMMIT_BASE", "ABOVE"])
def test_refuses_while_another_process_holds_an_image(tools, chain_cache, tmp_path, held):
    built = chain_cache.copy(FIVE, str(tmp_path / "chain"))
    pid = qemu_io.hold(tools, built.paths[held], str(tmp_path / "holder.log"))
    try:
        # Taken while held: opening the image marked its bitmaps in use.
        before = digests(built.folder)
        with pytest.raises(commit_reference.CommitError, match="lock"):
            commit_reference.commit(tools, *commit_paths(built, 3, 1, 4), timeout=60)
        assert digests(built.folder) == before
    finally:
        qemu_io.release(tools, pid)


def test_a_raw_base_with_nothing_to_carry_is_committed(tools, chain_cache, tmp_path):
    plain = scenario(
        "raw-base-no-bitmaps",
        image(fmt="raw", size=4 * M, data=[(0, 64 * K)]),
        image(bitmap("off", DISABLED), data=[(64 * K, 64 * K)]),
    )
    built = chain_cache.copy(plain, str(tmp_path / "chain"))
    assert commit_reference.commit(tools, built.active, built.paths[0], timeout=60) == []
    same, said = qemu_img.compare(tools, built.paths[0], chain_cache.pristine(plain).active)
    assert same, said


def test_command_line(tools, chain_cache, tmp_path):
    built = chain_cache.copy(FIVE, str(tmp_path / "chain"))
    argv = [sys.executable, "-m", "qcow2_conformance.implementations.commit_reference"]
    env = {"QEMU_IMG": tools.qemu_img, "PYTHONPATH": ROOT}
    # Relative paths, from the chain's folder.
    names = [os.path.basename(p) for p in commit_paths(built, 3, 1, 4)]
    out = command.run(tools.host, [*argv, *names], env=env, cwd=built.folder)
    assert out.stdout == "layer1.qcow2: layer3.qcow2 committed into it, 4 bitmaps carried\n"
    again = command.run(tools.host, [*argv, *names], env=env, cwd=built.folder, check=False)
    assert again.rc == 1
    assert again.stderr.startswith("error: ") and "not by COMMIT_TOP" in again.stderr
    usage = command.run(tools.host, [*argv, names[0]], env=env, cwd=built.folder, check=False)
    assert usage.rc == 2 and usage.stderr.startswith("usage: ")


def test_a_name_with_a_gap_is_not_carried_and_its_lower_bitmap_is_left_alone(
    tools, chain_cache, tmp_path
):
    # COMMIT_TOP holds cp, the image between lacks it, COMMIT_BASE holds it
    # inconsistent: cp's chain at COMMIT_TOP has a gap, so it is not valid.
    built = chain_cache.copy(INCONSISTENT_TARGET, str(tmp_path / "chain"))
    base_before = image_facts(tools, built.paths[0], "base")
    carried = commit_reference.commit(tools, built.paths[2], built.paths[0], timeout=60)
    assert carried == []
    assert image_facts(tools, built.paths[0], "base").bitmaps == base_before.bitmaps
