"""Judge every implementation against every rule, on every scenario."""

import pytest

from fixtures.plugin import settings
from rules import HARDENING
from rules.outcomes import ERROR, FAILED, FINDINGS, SKIPPED


@pytest.fixture
def verdicts(case, pipeline, request):
    """The verdicts of case's rule, one per subject.

    They go to the results file as they are (user property 'verdicts'). The
    test errors when some could not be evaluated and none failed, and is
    skipped when every subject was.
    """
    impl, scenario, rule = case.impl, case.scenario, case.rule
    # Under remote xdist workers each judges on its own host: say which.
    request.node.user_properties.append(("host", settings(request.config).target.name()))
    reason = pipeline.unavailable(impl, scenario)
    if reason:
        pytest.skip(reason)
    if rule.judged_on == HARDENING:
        found = [pipeline.hardening(impl, scenario, rule, s) for s in case.subjects]
    else:
        judged = pipeline.verdicts(impl, scenario)
        found = [judged[(rule.id, s.label)] for s in case.subjects]
        if any(v.outcome in FINDINGS for v in found):
            request.node.add_report_section(
                "setup", "harness commands", "\n".join(pipeline.commands(impl, scenario))
            )
    request.node.user_properties.append(
        (
            "verdicts",
            [{"subject": v.subject, "outcome": v.outcome, "message": v.message} for v in found],
        )
    )
    outcomes = {v.outcome for v in found}
    if ERROR in outcomes and FAILED not in outcomes:
        raise RuntimeError(described(v for v in found if v.outcome == ERROR))
    if outcomes == {SKIPPED}:
        pytest.skip(described(found))
    return found


def described(verdicts):
    return "; ".join(f"{v.subject}: {v.message}" if v.subject else v.message for v in verdicts)


def test_rule(verdicts):
    failed = [v for v in verdicts if v.outcome == FAILED]
    assert not failed, described(failed)
