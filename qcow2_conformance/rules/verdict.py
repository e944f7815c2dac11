"""Turn a rule, its facts and a subject into a Verdict: the one path every verdict takes.

The error policy, the same for every rule:
- the tool's fault is a verdict: the rule's check returns what did not hold;
- facts a rule needs but that are missing (completes failed, OVERLAY is
  unreadable, NotEvaluated) make an error verdict that says so;
- any other exception is a bug in the harness: it is not caught here, so the
  test that asked reports it with its traceback.

A run that refused cleanly (rules.exit_status.refusal: exited non-zero,
changed nothing) is one outcome, not a failure and ten errors: its
completes rule is refused, and the rules that depend on the run are skipped.
"""

from dataclasses import dataclass

from qcow2_conformance.rules import (
    CHECKPOINT,
    HARDENING,
    IMAGE,
    NotEvaluated,
    completes_rule,
    load_rules,
    rules_of,
)
from qcow2_conformance.rules.backup import chain_problems
from qcow2_conformance.rules.crosscheck import dirty_bits_agree
from qcow2_conformance.rules.exit_status import refusal
from qcow2_conformance.rules.outcomes import ERROR, FAILED, PASSED, REFUSED, SKIPPED
from qcow2_conformance.rules.subjects import BEFORE, SCENARIO_WIDE, subjects


@dataclass(frozen=True)
class Verdict:
    rule: str
    subject: str
    outcome: str
    message: str


def judge(rule_id, facts, subject=SCENARIO_WIDE):
    """Judge one rule on one subject.

    facts is the Observation of a plain run, or the HardeningFacts of a run
    of the rule's own (judged_on HARDENING).
    """
    rule = load_rules()[rule_id]
    refused = None if rule.judged_on == HARDENING else _refused(rule, facts, subject)
    if refused:
        return refused
    unmet = None if rule.judged_on == HARDENING else _unmet(rule, facts, subject)
    if unmet:
        return Verdict(rule_id, subject.label, ERROR, unmet)
    try:
        outcome, problems = _check(rule, facts, subject)
    except NotEvaluated as e:
        return Verdict(rule_id, subject.label, ERROR, str(e))
    if problems:
        return Verdict(rule_id, subject.label, outcome, "; ".join(problems))
    return Verdict(rule_id, subject.label, PASSED, "")


def _refused(rule, obs, subject):
    """The Verdict of a rule on a run that refused cleanly, or None.

    The completes rule says refused; the rules judged on every run (what a
    run leaves behind) and those that do not depend on the run are judged as
    usual; the others are skipped: there is nothing of the run to judge.
    """
    if subject.independent or (not rule.completion and not rule.needs_completion):
        return None
    why = refusal(obs)
    if why is None:
        return None
    if rule.completion:
        return Verdict(rule.id, subject.label, REFUSED, why)
    completes = completes_rule(rule.procedure).id
    return Verdict(
        rule.id, subject.label, SKIPPED, f"not judged: {completes} refused, changing nothing"
    )


def _unmet(rule, obs, subject):
    """Why a rule that depends on the run cannot be judged on it, or None.

    Rules that depend on the run are errors when their procedure's completes
    rule failed, and rules that need OVERLAY's contents are errors when
    OVERLAY could not be read.
    """
    if rule.completion or not rule.needs_completion or subject.independent:
        return None
    completes = completes_rule(rule.procedure)
    failed = completes.check(obs)
    if failed:
        return f"not evaluated: {completes.id} failed ({failed[0]})"
    if rule.needs_overlay and obs.overlay is None and rule.judged_on != IMAGE:
        return f"not evaluated: {obs.overlay_error}"
    return None


def _check(rule, facts, subject):
    if rule.judged_on == CHECKPOINT:
        return _check_checkpoint(rule, facts, subject)
    if rule.judged_on == IMAGE:
        return _check_image(rule, facts, subject)
    return FAILED, rule.check(facts)


def _check_image(rule, obs, subject):
    if subject.kind == "merged":
        if obs.baseline.merge_missing:
            return SKIPPED, [f"qemu's merge of {subject.name!r} {obs.baseline.merge_missing}"]
        ours, qemus = obs.baseline.merged[subject.name]
        if qemus is None:
            return SKIPPED, [
                f"qemu cannot merge {subject.name!r}: the images holding it differ in virtual size"
            ]
        return FAILED, dirty_bits_agree(subject.name, ours, qemus)
    image, account = obs.view(subject.name, subject.side)
    if image is None or account is None:
        lost = obs.lost if subject.side != BEFORE else None
        raise NotEvaluated(f"not evaluated: {lost or f'{subject.label} was not inspected'}")
    return FAILED, rule.check(image, account)


def _check_checkpoint(rule, obs, subject):
    """A checkpoint that was not valid before the snapshot is skipped, with why."""
    before = tuple(reversed(obs.before))
    if subject.side == BEFORE:
        problems = rule.check(before, subject.name)
        return SKIPPED, [f"not a valid checkpoint before the snapshot: {p}" for p in problems]
    invalid = chain_problems(before, subject.name)
    if invalid:
        return SKIPPED, [
            f"not a valid checkpoint before the snapshot ({invalid[0]}), so not judged after it"
        ]
    if obs.lost:
        raise NotEvaluated(f"not evaluated: {obs.lost}")
    return FAILED, rule.check(obs.chain_after(), subject.name)


def judge_all(obs, scenario):
    """{(rule id, subject label): Verdict} for every rule and subject of a plain run.

    The hardening checks are judged apart, each on a run of its own.
    """
    return {
        (rule.id, s.label): judge(rule.id, obs, s)
        for rule in rules_of(scenario.procedure)
        if rule.judged_on != HARDENING
        for s in subjects(rule, scenario)
    }
