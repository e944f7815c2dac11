"""Each procedure object, by behaviour: it drives an implementation through a scenario of
its own, reports its own rules for drawn scenarios, and tells an implementation that
lacks its method why it is skipped."""

from collections import Counter
from types import SimpleNamespace

import pytest

from qcow2_conformance.conformance.generated_summary import summary
from qcow2_conformance.implementations.registry import resolve
from qcow2_conformance.procedures import PROCEDURES
from qcow2_conformance.rules import load_rules
from qcow2_conformance.scenarios import model

# A scenario of each procedure's catalog, the smallest that carries a bitmap.
SCENARIOS = {"snapshot": "recording-alone", "commit": "commit-one-active"}


def test_the_catalog_and_the_run_know_the_same_procedures():
    # scenarios/ imports nothing of the harness: the loader checks the names of its own list.
    assert tuple(PROCEDURES) == model.PROCEDURES
    assert all(name == p.name for name, p in PROCEDURES.items())
    assert set(SCENARIOS) == set(PROCEDURES)


@pytest.mark.parametrize("name", SCENARIOS)
def test_a_procedure_drives_the_reference_through_its_scenario(name, pipeline, catalog):
    procedure, scenario = PROCEDURES[name], catalog[SCENARIOS[name]]
    assert scenario.procedure == procedure.name
    verdicts = pipeline.verdicts(resolve("reference"), scenario)
    # Its own rules judged it, and no other procedure's.
    assert {rule for rule, _ in verdicts} <= {r.id for r in procedure.rules()}
    outcomes = {key: v.outcome for key, v in verdicts.items()}
    assert "failed" not in outcomes.values() and "error" not in outcomes.values(), outcomes
    completes = next(r.id for r in procedure.rules() if r.completion)
    assert outcomes[(completes, "")] == "passed"


class SnapshotOnly:
    """An implementation with the snapshot procedure's method and no other."""

    name = "snapshot-only"

    def unavailable(self, tools):
        return None

    def snapshot(self, tools, active, overlay, *, cwd, timeout):
        raise AssertionError("not called here")


def test_an_implementation_without_a_procedures_method_is_skipped_saying_so(pipeline, catalog):
    reason = pipeline.unavailable(SnapshotOnly(), catalog["commit-one-active"])
    assert reason == "snapshot-only: does not run the commit procedure"
    assert pipeline.unavailable(SnapshotOnly(), catalog["recording-alone"]) is None


@pytest.mark.parametrize("name", PROCEDURES)
def test_drawn_scenarios_are_told_in_their_procedures_rules(name):
    procedure = PROCEDURES[name]
    own = [r.id for r in procedure.rules()]
    drawn = SimpleNamespace(name=f"{procedure.drawn_prefix}-11-0000")
    harness = SimpleNamespace(
        procedure=procedure,
        drawing=SimpleNamespace(filtered=Counter(), hypothesis_version="0", rounds={}),
        seed=11,
        scenario_dir="/nowhere",
        scenarios=lambda: [drawn],
        implementations=lambda: [],
    )
    records = [
        {"scenario": drawn.name, "rule": own[0], "outcome": "passed"},
        {"scenario": drawn.name, "rule": own[1], "outcome": "skipped"},
    ]
    told = summary(harness, records)
    assert told["rules_exercised"] == [own[0]]
    assert told["rules_not_exercised"] == own[1:]
    assert set(own) < set(load_rules())


@pytest.mark.parametrize(
    "name, families", [("snapshot", ("snapshot", "chain")), ("commit", ("commit",))]
)
def test_the_verdict_line_names_the_families_that_make_conformance(name, families):
    assert PROCEDURES[name].conformance_families() == families
