"""Judge every implementation against every rule, on every scenario."""

import pytest

from rules import HARDENING
from rules.outcomes import FINDINGS


@pytest.fixture
def verdict(case, pipeline, request):
    """The verdict of case's rule; a rule that could not be judged errors here."""
    impl, scenario, rule, subject = case.impl, case.scenario, case.rule, case.subject
    reason = pipeline.unavailable(impl, scenario)
    if reason:
        pytest.skip(reason)
    if rule.judged_on == HARDENING:
        found = pipeline.hardening(impl, scenario, rule, subject)
    else:
        found = pipeline.verdicts(impl, scenario)[(rule.id, subject.label)]
        if found.outcome in FINDINGS:
            request.node.add_report_section(
                "setup", "harness commands", "\n".join(pipeline.commands(impl, scenario))
            )
    request.node.user_properties.append(("message", found.message))
    if found.outcome == "error":
        raise RuntimeError(found.message)
    if found.outcome == "skipped":
        pytest.skip(found.message)
    return found


def test_rule(verdict):
    assert verdict.outcome == "passed", verdict.message
