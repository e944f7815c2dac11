"""Rule verdicts: each rule is a small pure function over observed facts.

A rule's check returns a list of violation messages (empty: the rule held)
and may raise NotEvaluated when the facts it needs are missing. Every rule
is one entry of rules/registry.py; what it is judged on is one of:

- SCENARIO: once per scenario, check(Observation); overlay-only, a hardening
  check judged on every run, is one of these too
- CHECKPOINT: per checkpoint and side, check(chain, name)
- IMAGE: per image inspected, check(ImageFacts, QemuAccount)
- HARDENING: on a run of its own under an adverse condition, check(HardeningFacts)
"""

SCENARIO, CHECKPOINT, IMAGE, HARDENING = "scenario", "checkpoint", "image", "hardening"


class NotEvaluated(Exception):
    """The facts this rule needs are not there (reported as an error)."""


def load_rules():
    """{rule id: Rule} for every rule, in the order of docs/rules.md and of every report."""
    from qcow2_conformance.rules.registry import BY_ID

    return BY_ID


def rules_of(procedure):
    """The rules that judge runs of procedure, in report order."""
    return [r for r in load_rules().values() if r.procedure == procedure]


def completes_rule(procedure):
    """The rule that says whether a run of procedure completed: when it fails, the
    procedure's other rules that depend on the run are not evaluated."""
    return next(r for r in rules_of(procedure) if r.completion)
