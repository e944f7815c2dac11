"""The conformance suite's fixtures and hooks: its cases, their scheduling, the pipeline.

Each group's tests (conformance/cases.py) share one implementation run, so
the harness's own scheduler (fixtures/grouping.py) sends a group to one
worker as a whole. The pipeline also stores each run's verdicts for the
whole session, so even a scheduler that split a group would not run an
implementation twice. Its run folder is shared by every xdist worker of the
session, like the chain cache, so verdicts computed by one worker are read
by the others.
"""

import pytest

from qcow2_conformance.conformance.cases import cases, param_id
from qcow2_conformance.conformance.lifecycles import Lifecycles
from qcow2_conformance.conformance.pipeline import Pipeline, RunError
from qcow2_conformance.fixtures.grouping import GroupScheduling
from qcow2_conformance.fixtures.session import is_active, settings
from qcow2_conformance.rules import HARDENING
from qcow2_conformance.rules.outcomes import ERROR, FAILED, FINDINGS, SKIPPED
from qcow2_conformance.scenarios.lifecycle import LIFECYCLE, replay_folder


def _cases(config):
    harness = settings(config)
    return cases(harness.implementations(), harness.scenarios())


def pytest_generate_tests(metafunc):
    # A test that takes the verdicts is a conformance test; another test's own
    # "case" (the harness's tests have some) is not the harness's to fill.
    if "verdicts" in metafunc.fixturenames:
        found = _cases(metafunc.config)
        metafunc.parametrize("case", [pytest.param(c, id=c.id) for c in found])


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if not is_active(config):
        return None
    table = {c.id: (c.group, c.weight) for c in _cases(config)}
    return GroupScheduling(config, log, lambda nodeid: table.get(param_id(nodeid)))


@pytest.fixture(scope="session")
def pipeline(pytestconfig, tools, chain_cache, session_folder):
    runs = session_folder / "runs"
    runs.mkdir(exist_ok=True)
    harness = settings(pytestconfig)
    return Pipeline(
        tools,
        chain_cache,
        str(runs),
        harness.timeout,
        images=harness.target.subfolder("runs"),
    )


@pytest.fixture(scope="session")
def lifecycles(pytestconfig, tools, session_folder):
    harness = settings(pytestconfig)
    return Lifecycles(
        tools,
        str(session_folder / "lifecycles"),
        harness.target.subfolder("lifecycles"),
        replay_folder(harness.results),
        {i.name: spec for i, spec in zip(harness.implementations(), harness.impl_specs)},
        timeout=harness.timeout,
        shrink_budget=pytestconfig.getoption("shrink_budget"),
        exec_commits=pytestconfig.getoption("lifecycle_commits"),
    )


@pytest.fixture(scope="session")
def failed_runs():
    """The (implementation, scenario) runs whose failure a test already showed in full."""
    return set()


def judged(pipeline, impl, scenario, failed_runs):
    """The verdicts of a run; when the harness failed it, the first of its tests shows
    the traceback and the commands, the others one line pointing there."""
    try:
        return pipeline.verdicts(impl, scenario)
    except RunError as e:
        if (impl.name, scenario.name) not in failed_runs:
            failed_runs.add((impl.name, scenario.name))
            raise
        first = str(e).splitlines()[0]
    # Out of the except block: pytest would show the RunError as this failure's context.
    pytest.fail(
        f"{first} (the same failure of the harness as the first test of this run,"
        " which shows its traceback)",
        pytrace=False,
    )


@pytest.fixture
def verdicts(case, request):
    """The verdicts of case's rule: of a scenario's run, or of a lifecycle."""
    if case.scenario.procedure == LIFECYCLE:
        return lifecycle_verdicts(case, _session_fixture(request, "lifecycles"), request)
    return scenario_verdicts(
        case,
        _session_fixture(request, "pipeline"),
        _session_fixture(request, "failed_runs"),
        request,
    )


_SESSION_FIXTURES = pytest.StashKey[dict]()


def _session_fixture(request, name):
    """The value of the session fixture name, asked of pytest once a session.

    request.getfixturevalue sets up again every fixture the named one
    depends on, at every call: once a test, that was a twentieth of a worker's
    own CPU. A session fixture's value does not change within its session.
    """
    found = request.session.stash.setdefault(_SESSION_FIXTURES, {})
    if name not in found:
        found[name] = request.getfixturevalue(name)
    return found[name]


def lifecycle_verdicts(case, lifecycles, request):
    request.node.user_properties.append(("host", settings(request.config).target.name()))
    reason = lifecycles.unavailable(case.impl)
    if reason:
        pytest.skip(reason)
    found = [lifecycles.verdict(case.impl, case.scenario, case.rule.id)]
    return _kept(found, request)


def scenario_verdicts(case, pipeline, failed_runs, request):
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
        run = judged(pipeline, impl, scenario, failed_runs)
        found = [run[(rule.id, s.label)] for s in case.subjects]
        if any(v.outcome in FINDINGS for v in found):
            request.node.add_report_section(
                "setup", "harness commands", "\n".join(pipeline.commands(impl, scenario))
            )
    return _kept(found, request)


def _kept(found, request):
    request.node.user_properties.append(
        (
            "verdicts",
            [{"subject": v.subject, "outcome": v.outcome, "message": v.message} for v in found],
        )
    )
    outcomes = {v.outcome for v in found}
    if ERROR in outcomes and FAILED not in outcomes:
        pytest.fail(described(v for v in found if v.outcome == ERROR), pytrace=False)
    if outcomes == {SKIPPED}:
        pytest.skip(described(found))
    return found


def described(verdicts):
    return "; ".join(f"{v.subject}: {v.message}" if v.subject else v.message for v in verdicts)
