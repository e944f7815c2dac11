"""Every rule can fail: each faulty implementation trips exactly its rule."""

import pytest

from conftest import faulty, outcomes

# (program in tests/faulty, scenario it runs on, the one rule it must trip)
CASES = [
    ("grows_overlay.py", "recording-alone", "overlay-backing"),
    ("drops_last_bitmap.py", "two-recording", "carry-recording"),
    ("stops_at_first_skip.py", "mixed-skipped-between", "carry-recording"),
    ("omits_granularity.py", "granularity-128k", "same-granularity"),
    ("omits_granularity.py", "granularity-2g", "same-granularity"),
    ("adds_disabled.py", "recording-alone", "overlay-recording"),
    ("dies_holding_overlay.py", "recording-alone", "overlay-consistent"),
    ("carries_disabled.py", "disabled-alone", "skip-disabled"),
    ("carries_inconsistent.py", "inconsistent-recording-alone", "skip-inconsistent"),
    ("carries_whole_chain.py", "chain-name-only-below", "no-foreign-bitmaps"),
    ("writes_overlay.py", "recording-alone", "overlay-fresh"),
    ("tidies_active.py", "inconsistent-recording-alone", "active-untouched"),
    ("leaks_cluster.py", "recording-alone", "image-check"),
]


@pytest.mark.parametrize("program, scenario, rule", CASES,
                         ids=[f"{rule}:{program}" for program, _, rule in CASES])
def test_faulty_implementation_trips_only_its_rule(program, scenario, rule, pipeline, catalog):
    verdicts = pipeline.verdicts(faulty(program), catalog[scenario])
    assert outcomes(verdicts, "failed") == [rule], {r: v.message for r, v in verdicts.items()}
    assert outcomes(verdicts, "error") == []


# completes: the other rules are not evaluated, and say so.
COMPLETES = [
    ("exits_nonzero.py", "exit status 3"),
    ("never_creates_overlay.py", "OVERLAY does not exist"),
    ("crashes.py", "exit status"),
    ("prints_garbage.py", "OVERLAY does not exist"),
]


@pytest.mark.parametrize("program, expected", COMPLETES)
def test_failed_run_trips_completes_and_errors_the_rest(program, expected, pipeline, catalog,
                                                        rule_ids):
    verdicts = pipeline.verdicts(faulty(program), catalog["recording-alone"])
    assert outcomes(verdicts, "failed") == ["completes"]
    assert expected in verdicts["completes"].message
    assert outcomes(verdicts, "error") == sorted(set(rule_ids) - {"completes"})
    for rule in set(rule_ids) - {"completes"}:
        assert verdicts[rule].message.startswith("not evaluated: completes failed")


def test_every_rule_has_a_faulty_implementation(rule_ids):
    tripped = {rule for _, _, rule in CASES} | {"completes"}
    assert tripped == set(rule_ids)
