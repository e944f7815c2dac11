"""Judge every implementation against every rule, on every scenario.

The fixtures (case, verdicts) come from qcow2_conformance.conformance.suite.
A storage project's own suite can import test_rule to judge its tool there.
"""

import pytest

from qcow2_conformance.conformance.suite import described
from qcow2_conformance.rules.outcomes import FAILED, REFUSED


def test_rule(verdicts):
    failed = [v for v in verdicts if v.outcome == FAILED]
    assert not failed, described(failed)
    # Not conformant, but no broken assertion: the message says what it refused.
    refused = [v for v in verdicts if v.outcome == REFUSED]
    if refused:
        pytest.fail(described(refused), pytrace=False)
