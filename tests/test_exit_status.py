"""The exit statuses the README's table promises, each from a real run.

0: every conformance rule held (advisory findings only warn);
1: a conformance rule failed, or --strict-advisory and an advisory finding;
2: bad input (tests/test_end_to_end.py has one case per kind of input).
"""

import os

import pytest

from qcow2_conformance.reports import results

from support import FAULTY, conformance

CASES = [
    # (implementation, scenario, extra options, exit status, a line the run ends with)
    ("reference", "recording-alone", [], 0, "conformance: every snapshot and chain rule held"),
    (
        "omits_granularity.py",
        "granularity-128k",
        [],
        1,
        "conformance: 1 snapshot and chain verdicts failed or not evaluated",
    ),
    (
        "plain_recipe.py",
        "hardening-existing-overlay",
        [],
        0,
        "warning: 1 advisory findings (hardening); not part of conformance;"
        " --strict-advisory makes them fail the run",
    ),
    (
        "plain_recipe.py",
        "hardening-existing-overlay",
        ["--strict-advisory"],
        1,
        "warning: 1 advisory findings (hardening); --strict-advisory: they fail the run",
    ),
    (
        "reference",
        "recording-alone",
        ["--strict-advisory"],
        0,
        "conformance: every snapshot and chain rule held",
    ),
    (
        "commit_recipe.py",
        "commit-one-active",
        ["--procedure=commit"],
        0,
        "conformance: every commit rule held",
    ),
    (
        "commit_skips_data.py",
        "commit-one-intermediate",
        ["--procedure=commit"],
        1,
        "conformance: 1 commit verdicts failed or not evaluated",
    ),
    # A limit of the algorithm is a finding about the procedure: advisory.
    (
        "commit_recipe.py",
        "commit-limit-gap-disabled-base",
        ["--procedure=commit"],
        0,
        "warning: 1 advisory findings (commit-limits); not part of conformance;"
        " --strict-advisory makes them fail the run",
    ),
]


@pytest.mark.parametrize("impl, scenario, extra, status, line", CASES)
def test_exit_status(tools, tmp_path, impl, scenario, extra, status, line):
    spec = impl if impl == "reference" else f"exec:{os.path.join(FAULTY, impl)}"
    out = conformance(
        tools,
        f"--impl={spec}",
        f"--scenario={scenario}",
        f"--results={tmp_path / 'r.json'}",
        "-n",
        "0",
        *extra,
    )
    assert out.rc == status, out.stdout[-2000:]
    assert line in out.stdout.splitlines(), out.stdout[-2000:]
    procedure = "commit" if "--procedure=commit" in extra else "snapshot"
    assert results.read(str(tmp_path / "r.json"))["run"]["procedure"] == procedure
