"""Helpers the harness's own tests share (fixtures live in tests/conftest.py)."""

import os

from implementations.external import ExternalProgram

FAULTY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "faulty")


def faulty(program):
    """The faulty implementation tests/faulty/PROGRAM, run as exec:PATH."""
    return ExternalProgram(os.path.join(FAULTY, program))


def failed_rules(verdicts, outcome="failed"):
    """The rule ids with at least one verdict of outcome."""
    return {rule for (rule, _), v in verdicts.items() if v.outcome == outcome}
