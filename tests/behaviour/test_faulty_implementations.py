"""Every rule can fail: each faulty implementation trips exactly the rules it breaks.

Most break one rule. Some mistakes necessarily break several: a missing
bitmap also breaks its checkpoint's chain and backup-ready, for example.
"""

import os
import re

import pytest

from qcow2_conformance.conformance.pipeline import Pipeline, RunError
from qcow2_conformance.rules import completes_rule, verdict

from faulty_programs import (
    COMMIT_PROGRAMS,
    DAMAGE_PROGRAMS,
    HARDENING_PROGRAMS,
    LIFECYCLE_PROGRAMS,
    REFUSING_PROGRAMS,
    SNAPSHOT_PROGRAMS,
)
from support import failed_rules, faulty, trips_exactly


@pytest.mark.parametrize(
    "program, scenario, rules",
    SNAPSHOT_PROGRAMS,
    ids=[f"{program}:{scenario}" for program, scenario, _ in SNAPSHOT_PROGRAMS],
)
def test_faulty_implementation_trips_its_rules(program, scenario, rules, pipeline, catalog):
    trips_exactly(pipeline, program, catalog[scenario], rules)


@pytest.mark.parametrize(
    "program, scenario, rules, words, unjudged",
    DAMAGE_PROGRAMS,
    ids=[f"{program}:{scenario}" for program, scenario, *_ in DAMAGE_PROGRAMS],
)
def test_damage_to_the_chain_is_a_verdict_about_the_tool(
    program, scenario, rules, words, unjudged, pipeline, catalog
):
    verdicts = pipeline.verdicts(faulty(program), catalog[scenario])
    assert failed_rules(verdicts) == rules
    first = next(v for v in verdicts.values() if v.outcome == "failed" and v.rule in rules)
    assert first.message.startswith(words), first.message
    errors = {k: v.message for k, v in verdicts.items() if v.outcome == "error"}
    if unjudged is None:
        (completes,) = rules
        unjudged = {rule for rule, _ in verdicts} - {completes}
        because = f"not evaluated: {completes} failed ({words}"
    else:
        because = f"not evaluated: {words}"
    assert {rule for rule, _ in errors} == unjudged, errors
    # One line each, saying what the tool did: no traceback, no qemu-img output.
    assert all(m.startswith(because) and "\n" not in m for m in errors.values()), errors


@pytest.mark.parametrize("program, scenario, words", REFUSING_PROGRAMS)
def test_a_run_that_changed_nothing_is_refused_and_its_other_rules_not_judged(
    program, scenario, words, pipeline, catalog
):
    verdicts = pipeline.verdicts(faulty(program), catalog[scenario])
    findings = {k: v.message for k, v in verdicts.items() if v.outcome in ("failed", "error")}
    assert findings == {}
    refused = {rule: v.message for (rule, _), v in verdicts.items() if v.outcome == "refused"}
    if words is None:
        assert refused == {}
        return
    completes = completes_rule(catalog[scenario].procedure).id
    assert list(refused) == [completes]
    said = "refused, changing nothing: exit status 1; it said: "
    assert refused[completes].startswith(said) and words in refused[completes]
    # Only what does not depend on the run is judged, and what a run leaves behind.
    skipped = {k for k, v in verdicts.items() if v.outcome == "skipped"}
    for rule, label in set(verdicts) - skipped - {(completes, "")}:
        assert rule in ("overlay-only", "no-leftovers") or label.endswith(" before"), rule
    for key in skipped:
        assert verdicts[key].message == f"not judged: {completes} refused, changing nothing"


# completes: the other rules are not evaluated, and say so.
COMPLETES = [
    ("exits_nonzero.py", "exit status 3"),
    ("never_creates_overlay.py", "OVERLAY does not exist"),
    ("crashes.py", "exit status 139 (killed by SIGSEGV)"),
    ("prints_garbage.py", "OVERLAY does not exist"),
]


@pytest.mark.parametrize("program, expected", COMPLETES)
def test_failed_run_trips_completes_and_errors_the_rest(program, expected, pipeline, catalog):
    verdicts = pipeline.verdicts(faulty(program), catalog["recording-alone"])
    assert failed_rules(verdicts) == {"completes"}
    assert expected in verdicts[("completes", "")].message
    errors = {k for k, v in verdicts.items() if v.outcome == "error"}
    # Only what does not depend on the run is still judged: the chain before,
    # and what the run left behind.
    judged = {k for k in verdicts if k not in errors} - {
        ("completes", ""),
        ("overlay-only", ""),
        ("no-leftovers", ""),
    }
    assert all(label.endswith(" before") for _, label in judged), judged
    for key in errors:
        assert verdicts[key].message.startswith("not evaluated: completes failed")


def test_every_rule_is_tripped_by_some_faulty_implementation(rule_ids):
    tripped = set().union(*(rules for _, _, rules in SNAPSHOT_PROGRAMS + COMMIT_PROGRAMS))
    tripped |= {"completes", "commit-completes"}
    # qemu-img-agrees is tripped by a faulty qemu-img (tests/rules/test_crosscheck.py),
    # the hardening checks by the programs of tests/observe/test_hardening.py, the commit
    # procedure's completes by tests/behaviour/test_commit_procedure.py.
    hardening = {check for _, check, _, _, _ in HARDENING_PROGRAMS}
    # The lifecycle rules, by the programs of tests/conformance/test_lifecycles.py.
    tripped |= set().union(*(rules for _, _, rules in LIFECYCLE_PROGRAMS))
    assert tripped | {"qemu-img-agrees"} | hardening == set(rule_ids)


def test_a_hanging_implementation_is_cut_off_with_its_children(
    tools, chain_cache, catalog, tmp_path
):
    pipeline = Pipeline(tools, chain_cache, str(tmp_path), timeout=2)
    verdicts = pipeline.verdicts(faulty("hangs.sh"), catalog["recording-alone"])
    assert verdicts[("completes", "")].message == "timed out after 2 s"
    # Its processes run in its folder; other tests' hanging programs may be alive elsewhere.
    assert processes_in(tmp_path) == []


def processes_in(folder):
    """The pids of processes whose working folder is folder or below it."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue  # gone meanwhile, or not ours to read
        if cwd == str(folder) or cwd.startswith(f"{folder}/"):
            found.append(int(pid))
    return found


def test_a_bug_in_the_harness_is_an_error_with_its_traceback(
    tools, chain_cache, catalog, tmp_path, monkeypatch
):
    def broken(obs, scenario):
        return {}["no such key"]

    monkeypatch.setattr(verdict, "judge_all", broken)
    pipeline = Pipeline(tools, chain_cache, str(tmp_path), timeout=60)
    with pytest.raises(RunError) as caught:
        pipeline.verdicts(faulty("omits_granularity.py"), catalog["recording-alone"])
    text = str(caught.value)
    assert text.startswith("KeyError: 'no such key'\n")
    assert "Traceback (most recent call last)" in text and "in broken" in text
    assert "harness commands:" in text and "omits_granularity.py" in text


def test_a_process_left_running_is_named_and_killed(pipeline, catalog):
    verdicts = pipeline.verdicts(faulty("leaves_process.py"), catalog["recording-alone"])
    message = verdicts[("no-leftovers", "")].message
    found = re.search(r"process (\d+) sleep 600 was still running after", message)
    assert found, message
    assert process_state(int(found.group(1))) in (None, "Z"), "killed, at most not yet reaped"


def test_a_process_that_outlives_the_timeout_is_named_and_killed(
    tools, chain_cache, catalog, tmp_path
):
    pipeline = Pipeline(tools, chain_cache, str(tmp_path), timeout=2)
    verdicts = pipeline.verdicts(faulty("hangs_leaving_process.sh"), catalog["recording-alone"])
    assert verdicts[("completes", "")].message == "timed out after 2 s"
    message = verdicts[("no-leftovers", "")].message
    # The program itself died with its process group; what left the group did not.
    found = re.findall(r"process (\d+) (sleep \d+) was still running", message)
    assert [what for _, what in found] == ["sleep 602"], message
    assert process_state(int(found[0][0])) in (None, "Z")


def process_state(pid):
    """The state letter of /proc/PID/stat (R, S, Z...), or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0].decode()
    except OSError:
        return None
