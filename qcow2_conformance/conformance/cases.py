"""The conformance suite's cases: one per (implementation, scenario, rule).

A case judges its rule on every subject the rule has in the scenario (each
checkpoint and side, each image inspected); the results file keeps one
record per subject. One test per rule, not per subject, keeps the number of
tests, and so what xdist pays for each, about three times smaller.

One function makes the cases, so the tests (conformance/suite.py) and the
xdist scheduler (fixtures/grouping.py) agree on every test id and its group.
A group is what must run on one worker, because its tests share one
implementation run: the snapshot, chain and cross-check rules of one
(implementation, scenario) pair. A hardening check runs the implementation
on copies of its own, so it is a group of its own.
"""

import re
from dataclasses import dataclass

from qcow2_conformance.procedures import for_scenario
from qcow2_conformance.rules import HARDENING
from qcow2_conformance.rules.subjects import subjects

TEST_FUNCTION = "test_rule"
# Printable ASCII but '%' and '\\': what id_safe keeps as it is.
_SAFE = re.compile(r"[ -$&-\[\]-~]*")


@dataclass(frozen=True)
class Case:
    impl: object
    scenario: object
    rule: object
    subjects: tuple  # rules.subjects.Subject, at least one

    @property
    def id(self):
        return id_safe(f"{self.impl.name}:{self.scenario.name}:{self.rule.id}")

    @property
    def group(self):
        if self.rule.judged_on == HARDENING:
            return f"{self.impl.name}:{self.scenario.name}:{self.rule.id}"
        return f"{self.impl.name}:{self.scenario.name}"

    @property
    def weight(self):
        """A guess at the group's cost, to start the heaviest groups first.

        A chain costs about its images and bitmaps; a hardening check runs
        once per subject (clean-failure six times), a plain group once.
        """
        images = self.scenario.images
        runs = len(self.subjects) if self.rule.judged_on == HARDENING else 1
        return runs * (len(images) + sum(len(image.bitmaps) for image in images) / 20)


def cases(implementations, scenarios):
    """Every Case, group by group, in the order of the catalog and of the rules.

    A rule with no subject in a scenario (a hardening check it does not
    name) has no case there.
    """
    return [
        Case(impl, scenario, rule, tuple(found))
        for impl in implementations
        for scenario in scenarios
        for rule in for_scenario(scenario).rules()
        if (found := subjects(rule, scenario))
    ]


def id_safe(text):
    """text with every character but printable ASCII written as %XX (UTF-8).

    pytest escapes ids itself, in a way of its own; an id that is already
    printable ASCII without '\\' passes through unchanged, so the scheduler
    can find a test by the id the harness gave it.
    """
    if _SAFE.fullmatch(text):
        # Every id the catalog and the generator make: no character to look at one by one.
        return text
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
