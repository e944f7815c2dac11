"""Rule verdicts: each rule is a small pure function over observed facts.

A rule returns a list of violation messages (empty: the rule held), and may
raise NotEvaluated when the facts it needs are missing. Three shapes:

- rule(id): judged once per scenario, check(observation)
- chain_rule(id): judged per checkpoint and chain, check(chain, name)
- image_rule(id): judged per image inspected, check(image facts, qemu-img info)
"""

from dataclasses import dataclass

SCENARIO, CHECKPOINT, IMAGE = "scenario", "checkpoint", "image"


class NotEvaluated(Exception):
    """The facts this rule needs are not there (reported as an error)."""


@dataclass(frozen=True)
class Rule:
    id: str
    family: str  # snapshot, chain, cross-check, hardening
    check: object
    kind: str = SCENARIO
    needs_overlay: bool = True


RULES = {}


def _register(rule_id, family, kind, needs_overlay=True):
    def register(func):
        RULES[rule_id] = Rule(rule_id, family, func, kind, needs_overlay)
        return func
    return register


def rule(rule_id, family="snapshot", needs_overlay=True):
    return _register(rule_id, family, SCENARIO, needs_overlay)


def chain_rule(rule_id):
    return _register(rule_id, "chain", CHECKPOINT)


def image_rule(rule_id):
    return _register(rule_id, "cross-check", IMAGE)


def load_rules():
    """Import the rule modules (they register themselves) and return RULES."""
    # Imported in the order of docs/rules.md, which is the order of reports.
    from rules import snapshot  # noqa: F401
    from rules import backup  # noqa: F401
    from rules import chain  # noqa: F401
    from rules import crosscheck  # noqa: F401
    return RULES
