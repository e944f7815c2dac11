"""Turn a rule, an Observation and a subject into a Verdict."""

from dataclasses import dataclass

from rules import CHECKPOINT, HARDENING, IMAGE, NotEvaluated, RULES, load_rules
from rules.backup import chain_problems
from rules.crosscheck import dirty_bits_agree
from rules.subjects import BEFORE, SCENARIO_WIDE, subjects

PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"


@dataclass(frozen=True)
class Verdict:
    rule: str
    subject: str
    outcome: str
    message: str


def judge(rule_id, obs, subject=SCENARIO_WIDE):
    """Judge one rule on one subject.

    Rules that depend on the run are errors when completes failed, and rules
    that need OVERLAY's contents are errors when OVERLAY could not be read.
    """
    rule = RULES[rule_id]
    if rule_id != "completes" and rule.needs_completion and not subject.independent:
        failed = RULES["completes"].check(obs)
        if failed:
            return Verdict(rule_id, subject.label, ERROR,
                           f"not evaluated: completes failed ({failed[0]})")
        if rule.needs_overlay and obs.overlay is None and rule.kind != IMAGE:
            return Verdict(rule_id, subject.label, ERROR, f"not evaluated: {obs.overlay_error}")
    try:
        outcome, problems = _check(rule, obs, subject)
    except NotEvaluated as e:
        return Verdict(rule_id, subject.label, ERROR, str(e))
    if problems:
        return Verdict(rule_id, subject.label, outcome, "; ".join(problems))
    return Verdict(rule_id, subject.label, PASSED, "")


def _check(rule, obs, subject):
    if rule.kind == CHECKPOINT:
        return _check_checkpoint(rule, obs, subject)
    if rule.kind == IMAGE:
        if subject.kind == "merged":
            if obs.baseline.merge_missing:
                return SKIPPED, [f"qemu's merge of {subject.name!r} {obs.baseline.merge_missing}"]
            return FAILED, dirty_bits_agree(subject.name, *obs.baseline.merged[subject.name])
        facts, info = obs.view(subject.name, subject.side)
        if facts is None or info is None:
            raise NotEvaluated(f"not evaluated: {subject.label} was not inspected")
        return FAILED, rule.check(facts, info)
    return FAILED, rule.check(obs)


def _check_checkpoint(rule, obs, subject):
    """A checkpoint that was not valid before the snapshot is skipped, with why."""
    before = tuple(reversed(obs.before))
    if subject.side == BEFORE:
        problems = rule.check(before, subject.name)
        return SKIPPED, [f"not a valid checkpoint before the snapshot: {p}" for p in problems]
    invalid = chain_problems(before, subject.name)
    if invalid:
        return SKIPPED, [f"not a valid checkpoint before the snapshot ({invalid[0]}),"
                         " so not judged after it"]
    return FAILED, rule.check(obs.chain_after(), subject.name)


def judge_all(obs, scenario):
    """{(rule id, subject label): Verdict} for every rule and subject of scenario.

    The hardening checks are judged apart, each on a run of its own (judge_hardening).
    """
    return {(r, s.label): judge(r, obs, s)
            for r, rule in load_rules().items() if rule.kind != HARDENING
            for s in subjects(rule, scenario)}


def judge_hardening(rule_id, facts, subject):
    problems = RULES[rule_id].check(facts)
    if problems:
        return Verdict(rule_id, subject.label, FAILED, "; ".join(problems))
    return Verdict(rule_id, subject.label, PASSED, "")
