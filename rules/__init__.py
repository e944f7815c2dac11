"""Rule verdicts: each rule is a small pure function over an Observation.

A rule returns a list of violation messages (empty: the rule held). It may
raise NotEvaluated when the facts it needs are missing.
"""

from dataclasses import dataclass


class NotEvaluated(Exception):
    """The facts this rule needs are not there (reported as an error)."""


@dataclass(frozen=True)
class Rule:
    id: str
    family: str  # snapshot, chain, cross-check, hardening
    check: object  # Observation -> list[str]
    needs_overlay: bool = True


RULES = {}


def rule(rule_id, family="snapshot", needs_overlay=True):
    def register(func):
        RULES[rule_id] = Rule(rule_id, family, func, needs_overlay)
        return func
    return register


def load_rules():
    """Import the rule modules (they register themselves) and return RULES."""
    from rules import snapshot  # noqa: F401
    return RULES
