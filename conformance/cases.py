"""The conformance suite's cases: implementations x scenarios x rules x subjects.

One function makes them, so the tests (conformance/conftest.py) and the
xdist scheduler (fixtures/grouping.py) agree on every test id and its group.

A group is what must run on one worker, because its tests share one
implementation run: the snapshot, chain and cross-check rules of one
(implementation, scenario) pair. Each hardening test has a run of its own,
so it is a group of its own.
"""

from dataclasses import dataclass

from rules import HARDENING, load_rules
from rules.subjects import subjects

TEST_FUNCTION = "test_rule"


@dataclass(frozen=True)
class Case:
    impl: object
    scenario: object
    rule: object
    subject: object

    @property
    def id(self):
        parts = [self.impl.name, self.scenario.name, self.rule.id]
        return id_safe(":".join(parts + ([self.subject.label] if self.subject.label else [])))

    @property
    def group(self):
        if self.rule.judged_on == HARDENING:
            return f"{self.impl.name}:{self.scenario.name}:{self.rule.id}:{self.subject.label}"
        return f"{self.impl.name}:{self.scenario.name}"

    @property
    def weight(self):
        """A guess at the group's cost, to start the heaviest groups first."""
        images = self.scenario.images
        return len(images) + sum(len(image.bitmaps) for image in images) / 20


def cases(implementations, scenarios):
    """Every Case, group by group, in the order of the catalog and of the rules."""
    rules = load_rules().values()
    found = []
    for impl in implementations:
        for scenario in scenarios:
            for rule in rules:
                found.extend(Case(impl, scenario, rule, s) for s in subjects(rule, scenario))
    return found


def id_safe(text):
    """text with every character but printable ASCII written as %XX (UTF-8).

    pytest escapes ids itself, in a way of its own; an id that is already
    printable ASCII without '\\' passes through unchanged, so the scheduler
    can find a test by the id the harness gave it.
    """
    out = []
    for char in text:
        if " " <= char <= "~" and char not in "%\\":
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
    return "".join(out)


def param_id(nodeid):
    """The id in 'path::test_rule[ID]', or None for any other test."""
    head, found, rest = nodeid.partition(f"::{TEST_FUNCTION}[")
    return rest[:-1] if found and rest.endswith("]") else None
