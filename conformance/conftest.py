"""Parametrize the conformance suite, and tell xdist how its tests group.

Each group's tests (conformance/cases.py) share one implementation run, so
the harness's own scheduler (fixtures/grouping.py) sends a group to one
worker as a whole. The pipeline also stores each run's verdicts for the
whole session, so even a scheduler that split a group would not run an
implementation twice.
"""

import pytest

from conformance.cases import cases, param_id
from fixtures.grouping import GroupScheduling
from fixtures.plugin import settings


def _cases(config):
    harness = settings(config)
    return cases(harness.implementations(), harness.scenarios())


def pytest_generate_tests(metafunc):
    if "case" in metafunc.fixturenames:
        found = _cases(metafunc.config)
        metafunc.parametrize("case", [pytest.param(c, id=c.id) for c in found])


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    table = {c.id: (c.group, c.weight) for c in _cases(config)}
    return GroupScheduling(config, log, lambda nodeid: table.get(param_id(nodeid)))
