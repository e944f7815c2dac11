"""Parametrize the conformance suite: implementations x scenarios x rules x subjects.

Each (implementation, scenario) pair is one xdist group, so all its tests
run on one worker and the implementation runs once for them.
"""

import pytest

from fixtures.plugin import settings
from rules import load_rules
from rules.subjects import subjects


def test_id(impl, scenario, rule, subject):
    parts = [impl.name, scenario.name, rule.id] + ([subject.label] if subject.label else [])
    return ":".join(parts)


def pytest_generate_tests(metafunc):
    if "case" not in metafunc.fixturenames:
        return
    harness = settings(metafunc.config)
    params = []
    for impl in harness.implementations():
        for scenario in harness.scenarios():
            group = f"{impl.name}:{scenario.name}"
            for rule in load_rules().values():
                for subject in subjects(rule, scenario):
                    case = (impl, scenario, rule, subject)
                    params.append(pytest.param(case, id=test_id(*case),
                                               marks=pytest.mark.xdist_group(group)))
    metafunc.parametrize("case", params)


def pytest_collection_modifyitems(items):
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec and isinstance(callspec.params.get("case"), tuple):
            impl, scenario, rule, subject = callspec.params["case"]
            item.user_properties.append(("case", {
                "implementation": impl.name, "scenario": scenario.name,
                "rule": rule.id, "family": rule.family, "subject": subject.label}))
