"""Judge every implementation against every rule, on every scenario.

The fixtures (case, verdicts) come from qcow2_conformance.conformance.suite.
A storage project's own suite can import test_rule to judge its tool there.
"""

from qcow2_conformance.conformance.suite import described
from qcow2_conformance.rules.outcomes import FAILED


def test_rule(verdicts):
    failed = [v for v in verdicts if v.outcome == FAILED]
    assert not failed, described(failed)
