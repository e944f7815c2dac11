"""The hardening checks: reference passes them, and each has a faulty program that fails it."""

import pytest

from qcow2_conformance.implementations.registry import Reference
from qcow2_conformance.observe import hardening
from qcow2_conformance.observe.inspect import InspectError
from qcow2_conformance.rules import HARDENING, load_rules
from qcow2_conformance.rules.subjects import subjects

from faulty_programs import HARDENING_PROGRAMS
from support import faulty

# The checks with runs of their own; overlay-only is judged on every run.
CHECKS = [r for r in load_rules().values() if r.judged_on == HARDENING]


def cases(catalog, rule):
    return [
        (scenario, subject) for scenario in catalog.values() for subject in subjects(rule, scenario)
    ]


@pytest.mark.parametrize("rule", CHECKS, ids=lambda r: r.id)
@pytest.mark.parametrize("use_daemon", [True, False], ids=["storage-daemon", "qemu-img"])
def test_reference_passes(rule, use_daemon, pipeline, catalog):
    impl = Reference(f"reference-{'daemon' if use_daemon else 'qemu-img'}", use_daemon)
    found = {
        (s.name, subject.label): pipeline.hardening(impl, s, rule, subject)
        for s, subject in cases(catalog, rule)
    }
    assert found, f"no scenario runs {rule.id}"
    assert {k: v.message for k, v in found.items() if v.outcome != "passed"} == {}


@pytest.mark.parametrize(
    "program, check, scenario, label, words",
    HARDENING_PROGRAMS,
    ids=[f"{c}:{p}:{lbl}" for p, c, _, lbl, _ in HARDENING_PROGRAMS],
)
def test_faulty_program_fails_the_check(program, check, scenario, label, words, pipeline, catalog):
    rule = load_rules()[check]
    subject = next(s for s in subjects(rule, catalog[scenario]) if s.label == label)
    verdict = pipeline.hardening(faulty(program), catalog[scenario], rule, subject)
    assert verdict.outcome == "failed"
    assert words in verdict.message


def test_the_plain_recipe_passes_where_it_should(pipeline, catalog):
    # It refuses a locked ACTIVE (qemu-img info without -U) and never uses a shell.
    for check, scenario in (
        ("locked-active", "hardening-locked-active"),
        ("hostile-names", "names-shell"),
    ):
        rule = load_rules()[check]
        [subject] = subjects(rule, catalog[scenario])
        verdict = pipeline.hardening(faulty("plain_recipe.py"), catalog[scenario], rule, subject)
        assert verdict.outcome == "passed", verdict.message


def test_facts_that_never_settle_are_an_error_not_a_silent_return(tools, chain_cache, catalog):
    # No process holds ACTIVE, so its bitmaps are never marked in use.
    built = chain_cache.pristine(catalog["recording-alone"])
    with pytest.raises(InspectError, match=r"not all marked in use 0\.2 s after"):
        hardening._settled(tools, built.paths, tries=2)
