"""What a conformance run prints (reports/terminal.py), from real runs as a user starts them.

The promise: a person reads the verdict in ten seconds. A careless tool's run
fits one screen; findings are lines, not tracebacks; advisory findings and
rules not evaluated are no pytest failures; only a bug of the harness shows
a traceback; -v keeps every detail.
"""

import dataclasses
import json
import os
import re
import shutil
import sys
from xml.etree import ElementTree

import pytest

from qcow2_conformance.reports import findings
from qcow2_conformance.reports.terminal import SUMMARY_ORDER
from qcow2_conformance.tools import command, cpus

import support
from support import FAULTY, ROOT, conformance, qemu_folder

# The end of pytest's summary line: '= 869 passed, ... in 56.74s ='.
SUMMARY = re.compile(r"^=+ (.*) in [\d.]+s(?: \([\d:]+\))? =+$")
FAILED_RULES = "rules that failed: rule, scenario: why"
REFUSED = "refused, changing nothing (not conformant): implementation: what it said"
NOT_EVALUATED = "rules not evaluated: scenario, rules: why"
ADVISORY = "advisory findings, not part of conformance: rule, scenario: why"


def run(tools, tmp_path, program, *args):
    spec = program if program == "reference" else f"exec:{os.path.join(FAULTY, program)}"
    return conformance(tools, f"--impl={spec}", f"--results={tmp_path / 'r.json'}", *args)


def section(stdout, heading):
    """The lines under a '--- heading ---' line, up to the next line of dashes or verdict."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if f" {heading} " in line) + 1
    found = []
    for line in lines[start:]:
        if line.startswith(("---", "===", "warning:", "conformance:")):
            break
        found.append(line)
    return found


RED = "\x1b[31m"


def plain(out):
    """out without its colours."""
    return dataclasses.replace(out, stdout=re.sub(r"\x1b\[[0-9;]*m", "", out.stdout))


def junit_counts(folder):
    suite = ElementTree.parse(folder / "r.junit.xml").getroot().find("testsuite")
    return {name: int(suite.get(name)) for name in ("failures", "errors")}


def summary_counts(stdout):
    """{category: count} of pytest's last line."""
    match = SUMMARY.match(stdout.splitlines()[-1])
    assert match, stdout.splitlines()[-1]
    return {
        name: int(count)
        for count, name in (part.split(" ", 1) for part in match.group(1).split(", "))
    }


def test_a_careless_tool_fits_one_screen(tools, tmp_path):
    out = run(tools, tmp_path, "careless.py", "-n", "2")
    lines = out.stdout.splitlines() + out.stderr.splitlines()
    assert out.rc == 1, out.stdout[-3000:]
    assert len(lines) < 60, out.stdout
    assert "Traceback" not in out.stdout and "RuntimeError" not in out.stdout
    failed = section(out.stdout, FAILED_RULES)
    assert {line.split()[0] for line in failed} == {
        "completes",
        "same-granularity",
        "skip-inconsistent",
    }
    # qemu-img will not put -F qcow2 on a raw ACTIVE, and the tool passes that on: a
    # refusal that changed nothing, one line, counted apart.
    [refused] = section(out.stdout, REFUSED)
    # The scenario's name when the checkout's path leaves room for it.
    assert refused.startswith(f"exec:{FAULTY}/careless.py  refused 1 scenario")
    assert "; 1 scenario refused, changing nothing (safe, not conformant)" in out.stdout
    # JUnit has no outcome of its own for it: a failure whose message says refused.
    junit = ElementTree.parse(tmp_path / "r.junit.xml").getroot()
    said = [f.get("message") for f in junit.iter("failure")]
    assert sum(m.startswith("Failed: refused, changing nothing: exit status 1") for m in said) == 1
    # One line per rule and scenario, with its reason.
    assert (
        "same-granularity   granularity-512: bitmap 'g512': granularity 65536 in OVERLAY,"
        " 512 in ACTIVE"
    ) in failed
    assert len(failed) == len({tuple(line.split()[:2]) for line in failed})
    advisory = section(out.stdout, ADVISORY)
    assert {line.split()[0] for line in advisory} == {
        "no-clobber",
        "clean-failure",
        "hostile-names",
    }
    # A run that did not complete: one line for the rules it left unjudged.
    unjudged = section(out.stdout, NOT_EVALUATED)
    assert [line.split()[0] for line in unjudged] == ["names-leading-dash"]
    assert all("rules not evaluated: completes failed (exit status 1" in line for line in unjudged)
    # Progress: one character per implementation run, and the share done.
    assert any(re.fullmatch(r"[.FNRAEs]+ +\[100%\]", line) for line in lines), out.stdout
    counts = summary_counts(out.stdout)
    assert counts["nonconformant"] == len(failed) and counts["advisory"] == len(advisory)
    assert counts["refused"] == 1
    assert "failed" not in counts and "error" not in counts
    assert [c for c in counts if c in SUMMARY_ORDER] == list(SUMMARY_ORDER)


def test_the_summary_line_counts_findings_in_one_order(tools, tmp_path):
    # Without xdist the refusal (raw-active) comes first in the catalog: the
    # order the reports arrived in is not the line's.
    scenarios = ("granularity-512", "raw-active", "hardening-existing-overlay")
    out = run(tools, tmp_path, "careless.py", "-n", "0", *(f"--scenario={s}" for s in scenarios))
    assert out.rc == 1, out.stdout[-3000:]
    assert list(summary_counts(out.stdout)) == [
        "passed", "skipped", "nonconformant", "advisory", "refused"
    ]  # fmt: skip


def test_advisory_findings_are_no_pytest_failures(tools, tmp_path):
    colored = run(
        tools,
        tmp_path,
        "plain_recipe.py",
        "--scenario=hardening-existing-overlay",
        "-n",
        "0",
        "--color=yes",
    )
    out = plain(colored)
    assert out.rc == 0, out.stdout[-3000:]
    assert RED not in colored.stdout.splitlines()[-1]
    # JUnit keeps its meaning: the advisory finding is a failure there.
    assert junit_counts(tmp_path) == {"failures": 1, "errors": 0}
    # Cut to fit the width (at least 100 columns); the results file has every word.
    [line] = section(out.stdout, ADVISORY)
    assert line.startswith(
        "no-clobber  hardening-existing-overlay: exit status 0 although OVERLAY already existed;"
    )
    assert len(line) <= 100 and line.endswith("...")
    assert f" {FAILED_RULES} " not in out.stdout
    assert "FAILED" not in out.stdout and "Traceback" not in out.stdout
    counts = summary_counts(out.stdout)
    assert counts["advisory"] == 1 and "failed" not in counts
    assert "conformance: every snapshot and chain rule held" in out.stdout.splitlines()


def test_rules_not_evaluated_are_one_line_naming_the_cause(tools, tmp_path):
    colored = run(
        tools, tmp_path, "exits_nonzero.py", "--scenario=recording-alone", "-n", "0", "--color=yes"
    )
    out = plain(colored)
    assert out.rc == 1, out.stdout[-3000:]
    assert RED in colored.stdout.splitlines()[-1]
    assert section(out.stdout, FAILED_RULES) == [
        "completes  recording-alone: exit status 3, expected 0"
    ]
    [line] = section(out.stdout, NOT_EVALUATED)
    assert re.fullmatch(
        r"recording-alone  \d+ rules not evaluated: completes failed \(exit status 3, expected 0\)",
        line,
    )
    assert "Traceback" not in out.stdout and "ERROR" not in out.stdout
    counts = summary_counts(out.stdout)
    assert counts["not evaluated"] > 1 and "error" not in counts
    # JUnit keeps its meaning: a rule not evaluated is an error there.
    assert junit_counts(tmp_path) == {"failures": 1, "errors": counts["not evaluated"]}


def test_a_tool_that_deletes_active_gets_verdicts_not_tracebacks(tools, tmp_path):
    out = plain(run(tools, tmp_path, "deletes_active.py", "--scenario=recording-alone", "-n", "0"))
    assert out.rc == 1, out.stdout[-3000:]
    gone = "ACTIVE (active.qcow2) was deleted"
    assert section(out.stdout, FAILED_RULES) == [f"active-untouched  recording-alone: {gone}"]
    # The rules that need ACTIVE: one line for their one cause.
    [line] = section(out.stdout, NOT_EVALUATED)
    assert re.fullmatch(rf"recording-alone  \d+ rules not evaluated: {re.escape(gone)}", line)
    assert section(out.stdout, ADVISORY) == ["overlay-only  recording-alone: removed active.qcow2"]
    assert "Traceback" not in out.stdout and "InspectError" not in out.stdout
    # Each rule not evaluated says so in one line of its own in the results file.
    records = json.loads((tmp_path / "r.json").read_text())["results"]
    unjudged = [r["message"] for r in records if r["outcome"] == "error"]
    assert len(unjudged) > 1 and all(m == f"not evaluated: {gone}" for m in unjudged)


# Builds nothing under the harness's chains folder, and checks nothing there (the
# build's last step; its images may come from qemu-storage-daemon): a chain qemu
# will not build is the harness's failure, not the tool's.
REFUSES_CHAINS = """#!/bin/sh
case "$1 $*" in
create*/chains/*|info*/chains/*) echo "qemu-img: refusing to build a chain" >&2; exit 1 ;;
esac
exec @REAL@ "$@"
"""


def test_only_a_harness_failure_shows_a_traceback(tools, tmp_path):
    qemu_img = qemu_folder(tools, tmp_path / "qemu", qemu_img=REFUSES_CHAINS)
    out = run(tools, tmp_path, "reference", f"--qemu-img={qemu_img}", "--scenario=recording-alone")
    assert out.rc == 1, out.stdout[-3000:]
    assert f"from --qemu-img {qemu_img}" in out.stdout
    assert "Traceback (most recent call last)" in out.stdout
    assert "refusing to build a chain" in out.stdout
    errors = summary_counts(out.stdout)["errors"]
    # The run's failure in full once, at its first test; its other tests point there.
    same = "(the same failure of the harness as the first test of this run"
    assert out.stdout.count("Traceback (most recent call last)") < errors
    assert out.stdout.count(same) >= errors // 2


def test_the_header_names_the_qemu_judged_and_where_it_came_from(tools, tmp_path):
    folder = tmp_path / "qemu"
    qemu_folder(tools, folder)
    out = run(tools, tmp_path, "reference", f"--qemu={folder}", "--scenario=recording-alone")
    assert out.rc == 0, out.stdout[-3000:]
    assert (
        f"qemu judged: {tools.release} at {folder}/qemu-img, from --qemu {folder}"
        in out.stdout.splitlines()
    )
    assert "judging: reference, snapshot procedure, 1 scenarios" in out.stdout.splitlines()
    on_path = run(tools, tmp_path, "reference", "--scenario=recording-alone", "-n", "0")
    assert f"qemu judged: {tools.release} at {tools.qemu_img}, from PATH" in on_path.stdout


def test_verbose_keeps_each_test_and_each_findings_detail(tools, tmp_path):
    program = os.path.join(FAULTY, "careless.py")
    scenarios = (
        "granularity-128k",
        "raw-active",
        "names-leading-dash",
        "hardening-existing-overlay",
    )
    out = run(tools, tmp_path, "careless.py", *(f"--scenario={s}" for s in scenarios), "-v")
    assert out.rc == 1, out.stdout[-3000:]
    for word, test in (
        ("NONCONFORMANT", "granularity-128k:same-granularity"),
        ("PASSED", "granularity-128k:completes"),
        ("NOT-EVALUATED", "names-leading-dash:carry-recording"),
        ("REFUSED", "raw-active:completes"),
        ("SKIPPED", "raw-active:carry-recording"),
        ("ADVISORY", "hardening-existing-overlay:no-clobber"),
    ):
        assert re.search(rf"{word} \S*:{test}\]", out.stdout), (word, test)
    detail = out.stdout.split("details of each finding", 1)[1]
    assert "AssertionError: bitmap 'g128k': granularity 65536 in OVERLAY" in detail
    commands = detail.split("Captured harness commands setup", 1)[1].splitlines()
    assert any(program in line and "-> exit " in line for line in commands[:60])
    assert "-- snapshot rules" in out.stdout  # the table


def test_the_commit_reference_has_no_finding_not_even_an_advisory_one(tools, tmp_path):
    # --strict-advisory: an advisory finding would fail the run too.
    out = run(tools, tmp_path, "reference", "--procedure=commit", "-n", "2", "--strict-advisory")
    assert out.rc == 0, out.stdout[-3000:]
    counts = summary_counts(out.stdout)
    assert set(counts) & {"advisory", "failed", "nonconformant", "error"} == set(), counts
    lines = out.stdout.splitlines()
    assert not any(f" {ADVISORY} " in line or line.startswith("warning:") for line in lines)


def record(outcome, rule="same-granularity", scenario="s1", **more):
    family = {"qemu-img-agrees": "cross-check", "no-clobber": "hardening"}.get(rule, "snapshot")
    fields = {"impl": "tool", "family": family, "message": "why", **more}
    return support.record(fields.pop("impl"), rule, outcome, scenario=scenario, **fields)


def test_findings_are_one_line_per_rule_and_scenario_and_per_cause():
    found = findings.sections(
        [
            record("passed", rule="completes"),
            record("failed", subject="a", message="first\nsecond"),
            record("failed", subject="b", message="third"),
            record("failed", rule="no-clobber", scenario="s2", message="overwritten"),
            record("error", rule="carry-recording", message="not evaluated: ACTIVE is gone"),
            record("error", rule="backup-ready", message="not evaluated: ACTIVE is gone"),
            record("error", rule="qemu-img-agrees", scenario="s2", message="not evaluated: x"),
        ]
    )
    assert found.failed == ("same-granularity  s1: a: first | second; b: third",)
    assert found.advisory == ("no-clobber  s2: overwritten",)
    assert found.not_evaluated == (
        "s1  2 rules not evaluated: ACTIVE is gone",
        "s2  qemu-img-agrees not evaluated (advisory): x",
    )


def test_findings_name_the_implementation_when_there_are_several_and_fit_the_width():
    found = findings.sections(
        [record("failed", impl="one", message="x" * 200), record("passed", impl="two")], width=40
    )
    assert found.failed == ("one: same-granularity  s1: " + "x" * 10 + "...",)


def test_refusals_are_one_line_per_implementation_with_what_they_share():
    said = "refused, changing nothing: exit status 1; it said: WrongParentVolume: /run/"
    found = findings.sections(
        [
            record("refused", impl="ovirt", rule="commit-completes", scenario=name, message=m)
            for name, m in (("deep", f"{said}1 not 3"), ("v2", f"{said}7 not 9"))
        ]
        + [record("refused", impl="plain", rule="completes", message=f"{said}x")],
        width=100,
    )
    assert found.refused == (
        "ovirt  refused 2 scenarios (deep, v2): exit status 1; it said: WrongParentVolume: ...",
        "plain  refused 1 scenario (s1): exit status 1; it said: WrongParentVolume: /run/x",
    )
    assert found.failed == found.not_evaluated == ()
    # Too many names to leave room for what it said: the count alone.
    narrow = findings.sections(
        [record("refused", scenario=f"scenario-{i}", message=said) for i in range(9)], width=100
    )
    assert narrow.refused == (f"tool  refused 9 scenarios: {said.split(': ', 1)[1]}",)


# docs/reports.md: its commands, each followed by its output.
DOC = os.path.join(ROOT, "docs", "reports.md")
CONSOLE = re.compile(r"^```console\n(.*?)^```$", re.M | re.S)


def doc_commands():
    """[(command, [expected output line])] of every console block of docs/reports.md."""
    with open(DOC, encoding="utf-8") as f:
        blocks = CONSOLE.findall(f.read())
    found = []
    for block in blocks:
        for line in block.splitlines():
            if line.startswith("$ "):
                found.append((line[2:], []))
            else:
                found[-1][1].append(line)
    return found


def shown(line):
    """A shown output line as a pattern: '<...>' stands for anything."""
    return re.compile(".*".join(re.escape(part) for part in line.split("<...>")))


def test_the_commands_of_docs_reports_md(tools, tmp_path):
    shutil.copy(os.path.join(FAULTY, "careless.py"), tmp_path)
    for folder, program in (("tool-1.0", "plain_recipe.py"), ("tool-2.0", "omits_granularity.py")):
        (tmp_path / folder).mkdir()
        shutil.copy(os.path.join(FAULTY, "recipe.py"), tmp_path / folder)
        shutil.copy(os.path.join(FAULTY, program), tmp_path / folder / "snapshot")
    path = f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}"
    commands = doc_commands()
    assert [c.split()[0] for c, _ in commands] == ["qcow2-conformance"] * 4 + ["qcow2-report"]
    for command_line, expected in commands:
        out = command.run(
            tools.host,
            ["sh", "-c", 'PATH="$1"; eval "$2"', "sh", path, command_line],
            cwd=tmp_path,
            check=False,
            timeout=600,
            cpus=cpus.unpinned(),
        )
        lines = iter((out.stdout + out.stderr).splitlines())
        for line in expected:
            pattern = shown(line)
            assert any(pattern.fullmatch(got) for got in lines), (line, command_line, out.stdout)
    assert out.rc == 1  # qcow2-report: a regression


@pytest.mark.parametrize("workers", ["0", "2"])
def test_tests_deselected_with_k_are_not_missing(tools, tmp_path, workers):
    out = run(
        tools, tmp_path, "reference", "--scenario=recording-alone", "-n", workers, "-k", "completes"
    )
    assert out.rc == 0, out.stdout[-3000:]
    assert "no result for" not in out.stdout
    assert "missing" not in json.loads((tmp_path / "r.json").read_text())["run"]
    assert re.search(r"^\S*(test_rules\.py )?\. +\[100%\]$", out.stdout, re.M), out.stdout
