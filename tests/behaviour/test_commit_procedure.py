"""The commit procedure, judged end to end with real qemu tools.

A correct commit recipe (tests/faulty/commit_recipe.py, run as exec:) passes
every commit rule on every commit scenario; each faulty variant trips its
rule and only the rules that necessarily follow from it.
"""

import pytest

from qcow2_conformance.fixtures.chain import BuiltChain, file_names
from qcow2_conformance.implementations.external import ExternalProgram
from qcow2_conformance.implementations.registry import resolve
from qcow2_conformance.procedures import PROCEDURES
from qcow2_conformance.rules import load_rules
from qcow2_conformance.rules.commit import gap_images
from qcow2_conformance.scenarios import load_catalog
from qcow2_conformance.scenarios.model import (
    COMMIT,
    COMMIT_BASE,
    COMMIT_TOP,
    DISABLED,
    RECORDING,
    SNAPSHOT,
    Bitmap,
    Image,
    Scenario,
)

from faulty_programs import COMMIT_PROGRAMS
from support import failed_rules, faulty, trips_exactly

COMMIT_SCENARIOS = [s.name for s in load_catalog() if s.procedure == COMMIT]


@pytest.mark.parametrize("scenario", COMMIT_SCENARIOS)
def test_the_commit_recipe_passes_every_commit_rule(scenario, pipeline, catalog):
    verdicts = pipeline.verdicts(faulty("commit_recipe.py"), catalog[scenario])
    findings = {k: v.message for k, v in verdicts.items() if v.outcome in ("failed", "error")}
    assert findings == {}
    assert {rule for rule, _ in verdicts} == {
        r.id for r in load_rules().values() if r.procedure == COMMIT
    }


@pytest.mark.parametrize(
    "program, scenario, rules",
    COMMIT_PROGRAMS,
    ids=[f"{program}:{scenario}" for program, scenario, _ in COMMIT_PROGRAMS],
)
def test_faulty_commit_trips_its_rules(program, scenario, rules, pipeline, catalog):
    trips_exactly(pipeline, program, catalog[scenario], rules)


def test_a_failed_commit_trips_commit_completes_and_errors_the_rest(pipeline, catalog):
    verdicts = pipeline.verdicts(faulty("commit_fails.py"), catalog["commit-one-active"])
    assert failed_rules(verdicts) == {"commit-completes"}
    message = verdicts[("commit-completes", "")].message
    assert "exit status 3" in message and "cannot commit: not implemented" in message
    errors = {k: v.message for k, v in verdicts.items() if v.outcome == "error"}
    assert set(errors) == set(verdicts) - {("commit-completes", "")}
    assert all(m.startswith("not evaluated: commit-completes failed") for m in errors.values())


def test_a_resurrecting_commit_names_the_checkpoint_and_the_writes_it_lost(pipeline, catalog):
    verdicts = pipeline.verdicts(faulty("commit_heals_gaps.py"), catalog["commit-gap-at-top"])
    message = verdicts[("commit-backup-ready", "")].message
    assert "(d) checkpoint 'cp', resurrected by the commit, is valid" in message
    assert "ABOVE (ACTIVE) lacked it" in message and "5242880+65536" in message


@pytest.mark.parametrize(
    "scenario, arguments",
    [
        ("commit-one-active", ("active.qcow2", "layer0.qcow2")),
        ("commit-one-intermediate", ("layer1.qcow2", "layer0.qcow2", "active.qcow2")),
        ("commit-several-deep", ("layer5.qcow2", "layer1.qcow2", "layer6.qcow2")),
    ],
)
def test_a_commit_program_is_given_commit_top_commit_base_and_above_if_any(
    scenario, arguments, catalog, tools, tmp_path
):
    # echo says what it was given; the chain need not exist for that.
    built = BuiltChain("/chain", file_names(catalog[scenario]))
    run = PROCEDURES[COMMIT].run(
        ExternalProgram("/bin/echo"), tools, catalog[scenario], built, cwd=tmp_path, timeout=30
    )
    assert run.output == " ".join(f"/chain/{name}" for name in arguments)
    assert PROCEDURES[COMMIT].created == ()


@pytest.mark.parametrize("spec", ["reference", "reference-qemu-img"])
def test_the_reference_takes_both_procedures(spec, tools):
    impl = resolve(spec)
    assert PROCEDURES[COMMIT].unavailable(impl, tools) is None
    assert PROCEDURES[SNAPSHOT].unavailable(impl, tools) is None


# Found by a generated scenario (seed 11): COMMIT_BASE's clusters (32 KiB) are
# coarser than the subchain's (1 KiB), its data ends inside a base cluster,
# and a recording bitmap of COMMIT_BASE that is not carried has 1 KiB
# granules: qemu writes whole base clusters, and sets bits up to their ends.
COARSE_BASE = Scenario(
    "commit-test-coarse-base",
    "commit-test",
    "",
    (
        Image(
            "qcow2",
            1 << 20,
            32768,
            (),
            (Bitmap("fine", RECORDING, 1024, ()),),
            COMMIT_BASE,
        ),
        Image("qcow2", None, 1024, ((197120, 292864),), (), COMMIT_TOP),
    ),
    __file__,
    procedure=COMMIT,
)


@pytest.mark.parametrize("spec", ["reference", "reference-qemu-img"])
def test_bits_qemu_sets_for_whole_base_clusters_are_allowed(spec, pipeline):
    verdicts = pipeline.verdicts(resolve(spec), COARSE_BASE)
    assert verdicts[("commit-others-untouched", "")].outcome == "passed", verdicts[
        ("commit-others-untouched", "")
    ].message
    assert failed_rules(verdicts) == set()


class Held:
    """An image that holds the names given: all rules.commit.gap_images asks of one."""

    def __init__(self, *names):
        self.names = names

    def bitmap(self, name):
        return name if name in self.names else None


@pytest.mark.parametrize(
    "chain, gaps",
    [
        ([Held("cp"), Held("cp")], []),  # valid: no gap
        ([Held("cp"), Held(), Held("cp")], [1]),
        ([Held(), Held("cp"), Held(), Held(), Held("cp"), Held()], [0, 2, 3]),  # below: none
        ([Held(), Held()], []),  # no image holds it
    ],
)
def test_gap_images_lie_between_the_top_and_the_lowest_holder(chain, gaps):
    assert gap_images(chain, "cp") == [chain[i] for i in gaps]


# Found by a generated scenario (seed 7): the commit grows COMMIT_BASE from
# 1015296 to 5339648 bytes, and the one bit of a disabled bitmap of 128 MiB
# granules, cut short by the old end, then covers the image's new end too.
GROWN_BASE = Scenario(
    "commit-test-grown-base",
    "commit-test",
    "",
    (
        Image(
            "qcow2",
            1015296,
            None,
            (),
            (Bitmap("coarse", DISABLED, 128 << 20, ((37376, 413184),)),),
            COMMIT_BASE,
        ),
        Image("qcow2", 5339648, 32768, (), (), COMMIT_TOP),
    ),
    __file__,
    procedure=COMMIT,
)


def test_a_bit_whose_granule_the_grown_base_extends_is_not_a_new_bit(pipeline):
    verdicts = pipeline.verdicts(resolve("reference"), GROWN_BASE)
    assert failed_rules(verdicts) == set(), verdicts[("commit-others-untouched", "")].message
