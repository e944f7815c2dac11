"""Parallel runs, by behaviour: each run happens once, and its tests stay on one worker.

These rest on nothing but what a user sees: a program that logs every call,
and the worker pytest-xdist names beside each test in verbose output. They
fail if a pytest or xdist release stops honouring the harness's scheduler.
"""

import os
import re
from collections import defaultdict

import pytest

from conformance.cases import cases
from fixtures.cache import COMPUTED
from implementations.external import ExternalProgram
from rules import HARDENING

from support import FAULTY, conformance

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
# Logs the ACTIVE it is given, then takes the snapshot the plain way.
printf '%s\\n' "$1" >> {log}
exec {program} "$@"
"""


@pytest.fixture(scope="module")
def parallel_run(tools, catalog, tmp_path_factory):
    folder = tmp_path_factory.mktemp("parallel")
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
        *(f"--scenario={s}" for s in SCENARIOS),
    )
    impl = ExternalProgram(str(program))
    found = cases([impl], [catalog[s] for s in SCENARIOS])
    return out, log.read_text().splitlines(), found, folder / "harness"


def test_each_chain_copy_is_run_exactly_once(parallel_run):
    out, calls, found, _ = parallel_run
    copies = defaultdict(int)
    for active in calls:
        copies[os.path.dirname(active)] += 1
    assert {folder: n for folder, n in copies.items() if n != 1} == {}
    hardening = [s for c in found if c.rule.judged_on == HARDENING for s in c.subjects]
    # One plain run per scenario, and one per subject of a hardening check.
    assert len(calls) == len(SCENARIOS) + len(hardening), out.stdout[-3000:]


def test_the_tests_of_one_run_stay_on_one_worker(parallel_run):
    out, _, found, _ = parallel_run
    workers = {
        m.group(2): m.group(1)
        for m in re.finditer(
            r"^\[(gw\d+)\] \[ *\d+%\] \w+ conformance/test_rules\.py::test_rule\[(.*)\]\s*$",
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
    _, _, _, basetemp = parallel_run
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
