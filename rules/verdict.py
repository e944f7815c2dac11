"""Turn a rule and an Observation into a Verdict."""

from dataclasses import dataclass

from rules import NotEvaluated, RULES, load_rules

PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"


@dataclass(frozen=True)
class Verdict:
    rule: str
    outcome: str
    message: str


def judge(rule_id, obs):
    """Judge one rule; rules other than completes are errors when completes failed."""
    rule = RULES[rule_id]
    if rule_id != "completes":
        failed = RULES["completes"].check(obs)
        if failed:
            return Verdict(rule_id, ERROR, f"not evaluated: completes failed ({failed[0]})")
        if rule.needs_overlay and obs.overlay is None:
            return Verdict(rule_id, ERROR, f"not evaluated: {obs.overlay_error}")
    try:
        problems = rule.check(obs)
    except NotEvaluated as e:
        return Verdict(rule_id, ERROR, str(e))
    if problems:
        return Verdict(rule_id, FAILED, "; ".join(problems))
    return Verdict(rule_id, PASSED, "")


def judge_all(obs, rule_ids=None):
    return {r: judge(r, obs) for r in (rule_ids or load_rules())}
