"""Lifecycles on real qemu and libnbd (docs/lifecycles.md): the faulty tools trip exactly
their rule, the reference passes drawn lifecycles, and a failing one is shrunk to a replay
file whose printed command reproduces it."""

import json
import os
import re

import pytest

from qcow2_conformance.conformance.lifecycle_disk import unavailable
from qcow2_conformance.conformance.lifecycle_machine import MAX_EVENTS, derived_seed, draw
from qcow2_conformance.conformance.lifecycle_run import CLUSTER, SIZE, LifecycleRun
from qcow2_conformance.fixtures.lifecycle_options import lifecycle_options
from qcow2_conformance.implementations.registry import Reference
from qcow2_conformance.rules.outcomes import FAILED, PASSED
from qcow2_conformance.scenarios import lifecycle as lc
from qcow2_conformance.tools import releases, toolset

from faulty_programs import LIFECYCLE_PROGRAMS
from support import FAULTY, conformance, faulty


@pytest.fixture
def lifecycle_tools(tools):
    reason = unavailable(tools)
    if reason:
        pytest.skip(reason)
    return tools


def _failed(impl, tools, events, folder):
    run = LifecycleRun(tools, impl, str(folder))
    try:
        for event in events:
            run.step(lc.from_dict(event))
    finally:
        run.close()
    return {rule for rule, v in run.verdicts().items() if v.outcome == FAILED}, run


@pytest.mark.parametrize(
    "program, events, rules", LIFECYCLE_PROGRAMS, ids=[p for p, _, _ in LIFECYCLE_PROGRAMS]
)
def test_each_faulty_tool_trips_exactly_its_lifecycle_rule(
    program, events, rules, lifecycle_tools, tmp_path
):
    failed, run = _failed(faulty(program), lifecycle_tools, events, tmp_path / "tool")
    assert failed == rules
    if "lifecycle-restore" in rules:
        # The checkpoint, and the first range lost: the write made in the gap, at 1 MiB.
        message = run.verdicts()["lifecycle-restore"].message
        assert "checkpoint 'cp0'" in message
        assert "offset 1048576 (0x100000), 65536 bytes" in message
    # The reference, on the same events, fails nothing: the events are not the fault.
    assert _failed(Reference(), lifecycle_tools, events, tmp_path / "reference")[0] == set()


def test_a_failing_drawn_lifecycle_is_shrunk_to_a_replay_that_fails_again(
    lifecycle_tools, tmp_path
):
    # Seed 78 with 4 events draws checkpoint, snapshot, snapshot, checkpoint, then the
    # closing backups (lifecycle_machine.draw): the snapshot already loses cp0, so any
    # shorter sequence hypothesis tries first still fails. Short, because each
    # candidate is a real lifecycle; the budget allows a few.
    tool = os.path.join(FAULTY, "lifecycle_no_carry.py")
    out = conformance(
        lifecycle_tools,
        "--lifecycles=1",
        "--seed=78",
        "--lifecycle-events=4",
        f"--impl=exec:{tool}",
        "--lifecycle-commits",
        "--shrink-budget=3",
        "-n",
        "0",
        cwd=str(tmp_path),
    )
    assert out.rc == 1, out.stdout + out.stderr
    with open(tmp_path / "conformance-out" / "results.json") as f:
        records = json.load(f)["results"]
    outcomes = {(r["implementation"], r["rule"]): r["outcome"] for r in records}
    assert {r["family"] for r in records} == {"lifecycle"}
    assert outcomes == {
        (f"exec:{tool}", "lifecycle-backup-possible"): "failed",
        (f"exec:{tool}", "lifecycle-restore"): "passed",
    }
    failed = [r for r in records if r["outcome"] == FAILED]
    assert [r["rule"] for r in failed] == ["lifecycle-backup-possible"]
    found = re.search(
        r"shrunk to (\d+): (qcow2-conformance --lifecycle-replay (\S+) .*)$", failed[0]["message"]
    )
    assert found, failed[0]["message"]
    # The terminal's verdict prints the same command, whole.
    assert f"replay: {found.group(2)}" in out.stdout.splitlines()
    shrunk = lc.read_file(found.group(3))
    # Shorter than drawn, within a budget that stops hypothesis early (a few examples).
    drawn = int(re.search(r"(\d+) events, shrunk", failed[0]["message"]).group(1))
    assert int(found.group(1)) == len(shrunk.events) < drawn, failed[0]["message"]
    replayed = conformance(
        lifecycle_tools, *found.group(2).split()[1:], "-n", "0", cwd=str(tmp_path)
    )
    assert replayed.rc == 1, replayed.stdout + replayed.stderr
    assert "lifecycle-backup-possible" in replayed.stdout


def test_one_seed_draws_one_lifecycle_that_ends_with_backups_since_its_checkpoints():
    def drawn(seed, commits=True):
        return draw(derived_seed(seed, 0), size=SIZE, cluster_size=CLUSTER, commits=commits)

    assert drawn(3) == drawn(3) != drawn(4)
    for seed in range(6):
        events = drawn(seed, commits=False)
        assert not any(isinstance(e, lc.Commit) for e in events)
        names = [e.name for e in events if isinstance(e, lc.Checkpoint)]
        closing = [lc.Backup(n) for n in dict.fromkeys(names[:1] + names[-1:])]
        assert list(events[len(events) - len(closing) :]) == closing
        assert len(events) <= MAX_EVENTS + 2


class _Options:
    """A pytest config's getoption over the options given (pure logic: the one-line path
    of a usage error is the same for every option, and tested with the others)."""

    DEFAULTS = {"procedure": "snapshot", "scenario": []}

    def __init__(self, **given):
        self.given = given

    def getoption(self, name):
        return self.given.get(name, self.DEFAULTS.get(name))


def _refused(message):
    raise SystemExit(message)


@pytest.mark.parametrize(
    "given, says",
    [
        ({"lifecycles": 0}, "--lifecycles 0: must be at least 1"),
        ({"lifecycle_replay": "nothing.json"}, "nothing.json: No such file or directory"),
        ({"lifecycles": 2, "generate": 2}, "leave out --generate"),
        ({"lifecycles": 2, "procedure": "commit"}, "leave out --procedure"),
        ({"lifecycle_commits": True}, "add --lifecycles N"),
        ({"lifecycle_replay": "x.json", "seed": 3}, "leave it out"),
    ],
)
def test_bad_lifecycle_options_are_refused_naming_the_fix(given, says, tmp_path):
    with pytest.raises(SystemExit) as refused:
        lifecycle_options(_Options(**given), _refused, lambda p: str(tmp_path / p))
    assert says in str(refused.value) and "\n" not in str(refused.value)


def test_lifecycle_options_give_the_slots_to_judge():
    found = lifecycle_options(_Options(lifecycles=2, seed=5), _refused, str)
    assert [(s.name, s.seed, s.max_events) for s in found] == [
        ("lifecycle-0", 5, MAX_EVENTS),
        ("lifecycle-1", 5, MAX_EVENTS),
    ]
    assert lifecycle_options(_Options(), _refused, str) is None


# The bar: the reference passes every lifecycle rule on 200 drawn lifecycles
# on each of qemu 7.2 and 10.0, cut in chunks that xdist spreads over its workers.
BAR_SEED = 11
BAR_LIFECYCLES = 200
BAR_CHUNKS = 8


@pytest.fixture(params=["7.2", "10.0"])
def release_tools(request, tools):
    """qemu RELEASE: the machine's own when it is that release (Debian 12's is 7.2), else
    fetched into the user cache (tools/releases.py)."""
    if tools.release.startswith(f"qemu-img version {request.param}."):
        found = tools
    else:
        try:
            folder = releases.provision(tools.host, request.param)
        except releases.ReleaseError as e:
            pytest.skip(f"qemu {request.param} cannot be fetched here: {e}")
        found = toolset.find(tools.host, os.path.join(folder, "qemu-img"))
    reason = unavailable(found)
    if reason:
        pytest.skip(reason)
    return found


@pytest.mark.parametrize("chunk", range(BAR_CHUNKS))
def test_the_reference_passes_200_drawn_lifecycles_on_each_release(release_tools, chunk, tmp_path):
    per_chunk = BAR_LIFECYCLES // BAR_CHUNKS
    for index in range(chunk * per_chunk, (chunk + 1) * per_chunk):
        events = draw(derived_seed(BAR_SEED, index), size=SIZE, cluster_size=CLUSTER, commits=True)
        done = [lc.to_dict(e) for e in events]
        _, run = _failed(Reference(), release_tools, done, tmp_path / f"lifecycle-{index}")
        outcomes = {rule: v.outcome for rule, v in run.verdicts().items()}
        assert set(outcomes) == {"lifecycle-backup-possible", "lifecycle-restore"}
        assert outcomes == dict.fromkeys(outcomes, PASSED), (index, done, run.verdicts())
