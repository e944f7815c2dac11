"""Fixtures shared by the harness's own tests."""

import pytest

from fixtures.plugin import settings
from rules import load_rules


@pytest.fixture(scope="session")
def rule_ids():
    return list(load_rules())


@pytest.fixture(scope="session")
def catalog(pytestconfig):
    # Every procedure's scenarios: a test names the one it runs.
    return {s.name: s for s in settings(pytestconfig).catalog()}
