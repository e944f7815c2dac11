"""Parallel runs, by behaviour: each run happens once, and its tests stay on one worker.

These rest on nothing but what a user sees: a program that logs every call,
and the worker pytest-xdist names beside each test in verbose output. They
fail if a pytest or xdist release stops honouring the harness's scheduler.
"""

import os
import re
from collections import defaultdict

import pytest

from qcow2_conformance.conformance.cases import cases
from qcow2_conformance.fixtures.cache import COMPUTED
from qcow2_conformance.implementations.external import ExternalProgram
from qcow2_conformance.rules import HARDENING

from support import FAULTY, conformance, cpu_list, machine_cpus

# Plain scenarios, and the hardening ones, whose checks each take a run of their own.
SCENARIOS = [
    "recording-alone",
    "two-recording",
    "chain-depth-5",
    "names-quotes",
    "granularity-128k",
    "dirty-recording",
    "hardening-existing-overlay",
    "hardening-failing-step",
]

LOGGING_PROGRAM = """#!/bin/sh
# Logs the ACTIVE it is given, and the CPUs it and its parent (the harness's
# timeout(1)) may use, then takes the snapshot the plain way.
printf '%s\\n' "$1" >> {log}
cpus() {{ sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$1/status"; }}
printf '%s %s\\n' "$(cpus $$)" "$(cpus $PPID)" >> {log}.cpus
exec {program} "$@"
"""


def two_cpus():
    """Two of the session's CPUs: a -n 2 run on them has as many workers as CPUs."""
    return set(sorted(machine_cpus())[:2])


def logging_run(tools, folder, scenarios, *more):
    """A -n 2 run of the logging program, on two_cpus(); returns (pytest's output,
    its calls, the (own, parent) CPU sets of each call, the program)."""
    log = folder / "calls.log"
    program = folder / "logging-snapshot"
    program.write_text(
        LOGGING_PROGRAM.format(log=log, program=os.path.join(FAULTY, "plain_recipe.py"))
    )
    program.chmod(0o755)
    out = conformance(
        tools,
        f"--impl=exec:{program}",
        f"--results={folder / 'r.json'}",
        f"--basetemp={folder / 'harness'}",
        "-n",
        "2",
        "-v",
        *(f"--scenario={s}" for s in scenarios),
        *more,
        on_cpus=two_cpus(),
    )
    seen = [tuple(map(cpu_list, line.split())) for line in open(f"{log}.cpus")]
    return out, log.read_text().splitlines(), seen, program


@pytest.fixture(scope="module")
def parallel_run(tools, catalog, tmp_path_factory):
    folder = tmp_path_factory.mktemp("parallel")
    out, calls, seen, program = logging_run(tools, folder, SCENARIOS)
    found = cases([ExternalProgram(str(program))], [catalog[s] for s in SCENARIOS])
    return out, calls, found, folder / "harness", seen


def test_each_chain_copy_is_run_exactly_once(parallel_run):
    out, calls, found, _, _ = parallel_run
    copies = defaultdict(int)
    for active in calls:
        copies[os.path.dirname(active)] += 1
    assert {folder: n for folder, n in copies.items() if n != 1} == {}
    hardening = [s for c in found if c.rule.judged_on == HARDENING for s in c.subjects]
    # One plain run per scenario, and one per subject of a hardening check.
    assert len(calls) == len(SCENARIOS) + len(hardening), out.stdout[-3000:]


def test_the_tests_of_one_run_stay_on_one_worker(parallel_run):
    out, _, found, _, _ = parallel_run
    workers = {
        m.group(2): m.group(1)
        for m in re.finditer(
            r"^\[(gw\d+)\] \[ *\d+%\] \w+ \S*conformance/test_rules\.py::test_rule\[(.*)\]\s*$",
            out.stdout,
            re.MULTILINE,
        )
    }
    assert set(workers) == {c.id for c in found}, out.stdout[-3000:]
    by_group = defaultdict(set)
    for case in found:
        by_group[case.group].add(workers[case.id])
    assert {group: w for group, w in by_group.items() if len(w) != 1} == {}
    # And the work really was shared.
    assert set(workers.values()) == {"gw0", "gw1"}


def test_no_chain_baseline_or_verdicts_is_computed_twice(parallel_run, catalog):
    _, _, _, basetemp, _ = parallel_run
    # The one implementation's folder; "baseline" is scratch for qemu's merges.
    (runs,) = [p for p in (basetemp / "runs").iterdir() if p.name != "baseline"]
    computed = [
        *(basetemp / "chains" / COMPUTED).read_text().splitlines(),
        *(runs / COMPUTED).read_text().splitlines(),
    ]
    # Chains and baselines are keyed by the chain's digest, verdicts by scenario.
    digests = {catalog[s].chain_digest() for s in SCENARIOS}
    expected = [f"{d}.{what}" for d in digests for what in ("chain", "baseline")]
    expected += [f"{s}.verdicts" for s in SCENARIOS]
    assert sorted(computed) == sorted(expected)


def needs_two_cpus():
    if len(machine_cpus()) < 2:
        pytest.skip(f"pinning workers needs 2 CPUs; this session has {len(machine_cpus())}")


def test_each_worker_runs_on_a_cpu_of_its_own_and_the_program_on_all(parallel_run):
    needs_two_cpus()
    *_, seen = parallel_run
    workers = {frozenset(parent) for _, parent in seen}
    assert all(len(cpus) == 1 for cpus in workers), seen
    assert len(workers) == 2, seen
    assert {frozenset(own) for own, _ in seen} == {frozenset(two_cpus())}


def test_no_pin_workers_leaves_the_workers_every_cpu(tools, tmp_path):
    needs_two_cpus()
    out, _, seen, _ = logging_run(tools, tmp_path, SCENARIOS[:2], "--no-pin-workers")
    assert out.rc == 0, out.stdout[-3000:]
    assert seen and all(own == parent == two_cpus() for own, parent in seen), seen


def test_workers_named_with_tx_id_run_unpinned(tools, tmp_path):
    out = conformance(
        tools,
        "--tx=popen//id=first",
        "--tx=popen//id=second",
        "--scenario=recording-alone",
        f"--results={tmp_path / 'r.json'}",
        f"--basetemp={tmp_path / 'harness'}",
    )
    assert out.rc == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert " passed" in out.stdout.splitlines()[-1]
