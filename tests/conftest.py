"""Helpers shared by the harness's own tests."""

import os

import pytest

from implementations.external import ExternalProgram
from rules import load_rules

FAULTY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "faulty")


@pytest.fixture(scope="session")
def rule_ids():
    return list(load_rules())


@pytest.fixture(scope="session")
def catalog(pytestconfig):
    from fixtures.plugin import settings
    return {s.name: s for s in settings(pytestconfig).scenarios()}


def faulty(program):
    """The faulty implementation tests/faulty/PROGRAM, run as exec:PATH."""
    return ExternalProgram(os.path.join(FAULTY, program))


def failed_rules(verdicts, outcome="failed"):
    """The rule ids with at least one verdict of outcome."""
    return {rule for (rule, _), v in verdicts.items() if v.outcome == outcome}
