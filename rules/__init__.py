"""Rule verdicts: each rule is a small pure function over observed facts.

A rule returns a list of violation messages (empty: the rule held), and may
raise NotEvaluated when the facts it needs are missing. Three shapes:

- rule(id): judged once per scenario, check(observation); a hardening check
  judged on every run, like overlay-only, is one of these too
- chain_rule(id): judged per checkpoint and chain, check(chain, name)
- image_rule(id): judged per image inspected, check(image facts, qemu-img info)
- hardening_rule(id): judged on a run under an adverse condition, check(HardeningFacts)
"""

from dataclasses import dataclass

SCENARIO, CHECKPOINT, IMAGE, HARDENING = "scenario", "checkpoint", "image", "hardening"


class NotEvaluated(Exception):
    """The facts this rule needs are not there (reported as an error)."""


@dataclass(frozen=True)
class Rule:
    id: str
    family: str  # snapshot, chain, cross-check, hardening
    check: object
    kind: str = SCENARIO
    needs_overlay: bool = True
    needs_completion: bool = True  # not evaluated when completes failed


RULES = {}

# The order of docs/rules.md, which is the order of reports.
ORDER = (
    "completes", "overlay-backing", "carry-recording", "same-granularity", "overlay-recording",
    "overlay-consistent", "skip-disabled", "skip-inconsistent", "no-foreign-bitmaps",
    "overlay-fresh", "active-untouched", "image-check", "backup-ready",
    "chain-top", "chain-contiguous", "chain-recording", "chain-consistent",
    "qemu-img-agrees",
    "no-clobber", "clean-failure", "locked-active", "hostile-names", "overlay-only",
)


def _register(rule_id, family, kind, needs_overlay=True, needs_completion=True):
    def register(func):
        RULES[rule_id] = Rule(rule_id, family, func, kind, needs_overlay, needs_completion)
        return func
    return register


def rule(rule_id, family="snapshot", needs_overlay=True, needs_completion=True):
    return _register(rule_id, family, SCENARIO, needs_overlay, needs_completion)


def chain_rule(rule_id):
    return _register(rule_id, "chain", CHECKPOINT)


def image_rule(rule_id):
    return _register(rule_id, "cross-check", IMAGE)


def hardening_rule(rule_id):
    return _register(rule_id, "hardening", HARDENING)


def load_rules():
    """Import the rule modules (they register themselves); return the rules in ORDER."""
    from rules import backup, chain, crosscheck, hardening, snapshot  # noqa: F401
    return {rule_id: RULES[rule_id] for rule_id in ORDER}
