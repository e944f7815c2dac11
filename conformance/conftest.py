"""Parametrize the conformance suite: implementations x scenarios x rules.

Each (implementation, scenario) pair is one xdist group, so all its rules run
on one worker and the implementation runs once for them.
"""

import pytest

from fixtures.plugin import settings
from rules import load_rules


def pytest_generate_tests(metafunc):
    if "case" not in metafunc.fixturenames:
        return
    harness = settings(metafunc.config)
    rules = load_rules()
    params = []
    for impl in harness.implementations():
        for scenario in harness.scenarios():
            group = f"{impl.name}:{scenario.name}"
            for rule in rules.values():
                params.append(pytest.param(
                    (impl, scenario, rule), id=f"{impl.name}:{scenario.name}:{rule.id}",
                    marks=pytest.mark.xdist_group(group)))
    metafunc.parametrize("case", params)


def pytest_collection_modifyitems(items):
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec and isinstance(callspec.params.get("case"), tuple):
            impl, scenario, rule = callspec.params["case"]
            item.user_properties.append(("case", {
                "implementation": impl.name, "scenario": scenario.name,
                "rule": rule.id, "family": rule.family}))
