"""Rules are pure functions over facts: judged here on hand-made facts."""

import dataclasses
import itertools

import pytest

from qcow2_conformance.implementations.base import RunFacts
from qcow2_conformance.observe.facts import (
    Baseline,
    BitmapFacts,
    ImageFacts,
    Observation,
    ProbeFacts,
)
from qcow2_conformance.rules import load_rules
from qcow2_conformance.rules.backup import backup_ready, chain_problems, held
from qcow2_conformance.rules.chain import (
    chain_consistent,
    chain_contiguous,
    chain_recording,
    chain_top,
)
from qcow2_conformance.rules.subjects import Subject
from qcow2_conformance.rules.verdict import judge
from qcow2_conformance.scenarios.checkpoints import valid_chain

ACTIVE_PATH = "/run/active.qcow2"
GiB = 1 << 30
load_rules()


def bitmap(name, *, in_use=False, auto=True, granularity=65536, dirty=()):
    return BitmapFacts(name, in_use, auto, granularity, tuple(dirty))


def image(role, bitmaps=(), **changes):
    facts = ImageFacts(
        role=role,
        path=ACTIVE_PATH if role == "ACTIVE" else f"/run/{role}",
        format="qcow2",
        compat="1.1",
        virtual_size=GiB,
        cluster_size=65536,
        backing_file=None,
        backing_path=None,
        backing_format=None,
        bitmaps=tuple(bitmaps),
        allocated=(),
        data_digest="d0",
    )
    return dataclasses.replace(facts, **changes)


def overlay_on_active(bitmaps):
    return image(
        "OVERLAY",
        bitmaps,
        backing_file=ACTIVE_PATH,
        backing_path=ACTIVE_PATH,
        backing_format="qcow2",
    )


def observation(
    active_bitmaps,
    overlay_bitmaps,
    *,
    run=None,
    overlay=None,
    after=None,
    probe=None,
    writes=None,
    overlay_exists=True,
):
    active = image("ACTIVE", active_bitmaps)
    overlay = overlay or overlay_on_active(overlay_bitmaps)
    run = run or RunFacts("fake", 0, False, 30, 0.1, "")
    baseline = Baseline((active,), {}, {}, writes or {})
    return Observation(
        run,
        baseline,
        after or (active,),
        overlay,
        None,
        {"leaks": 0},
        {},
        probe,
        overlay_exists=overlay_exists,
    )


def failed(obs):
    verdicts = {
        r: judge(r, obs)
        for r, rule in load_rules().items()
        if rule.judged_on == "scenario" and rule.procedure == "snapshot"
    }
    return {r: v.message for r, v in verdicts.items() if v.outcome == "failed"}


def probe_of(obs, overlay_bitmaps, writes=((0, 4096),)):
    written = overlay_on_active(overlay_bitmaps)
    return ProbeFacts(tuple(writes), (written,) + tuple(reversed(obs.after)), {}, None)


def test_a_correct_overlay_passes_everything():
    active = [bitmap("a"), bitmap("off", auto=False), bitmap("x", in_use=True)]
    obs = observation(active, [bitmap("a")])
    obs = dataclasses.replace(obs, probe=probe_of(obs, [bitmap("a", dirty=[(0, 65536)])]))
    assert failed(obs) == {}


@pytest.mark.parametrize(
    "active, overlay, rule, message",
    [
        (
            [bitmap("a")],
            [],
            "carry-recording",
            "bitmap 'a': recording in ACTIVE, missing from OVERLAY",
        ),
        (
            [bitmap("a", granularity=131072)],
            [bitmap("a")],
            "same-granularity",
            "bitmap 'a': granularity 65536 in OVERLAY, 131072 in ACTIVE",
        ),
        (
            [bitmap("a")],
            [bitmap("a", auto=False)],
            "overlay-recording",
            "bitmap 'a' in OVERLAY is not recording (no auto flag)",
        ),
        (
            [bitmap("a")],
            [bitmap("a", in_use=True)],
            "overlay-consistent",
            "bitmap 'a' in OVERLAY is inconsistent (in-use flag set)",
        ),
        (
            [bitmap("d", auto=False)],
            [bitmap("d")],
            "skip-disabled",
            "bitmap 'd': disabled in ACTIVE, yet present in OVERLAY",
        ),
        (
            [bitmap("x", in_use=True)],
            [bitmap("x")],
            "skip-inconsistent",
            "bitmap 'x': inconsistent in ACTIVE, yet present in OVERLAY",
        ),
        ([], [bitmap("new")], "no-foreign-bitmaps", "bitmap 'new' in OVERLAY is not in ACTIVE"),
        (
            [bitmap("a")],
            [bitmap("a", dirty=[(0, 65536)])],
            "overlay-fresh",
            "bitmap 'a' in OVERLAY has dirty bits at 0+65536, expected none",
        ),
    ],
)
def test_each_rule_names_what_it_expected_and_saw(active, overlay, rule, message):
    assert failed(observation(active, overlay)) == {rule: message}


def test_names_are_compared_byte_for_byte():
    obs = observation([bitmap("Daily"), bitmap("daily ")], [bitmap("daily"), bitmap("daily ")])
    assert {"carry-recording", "no-foreign-bitmaps"} <= set(failed(obs))


def test_overlay_backing_checks_format_size_and_target():
    overlay = image(
        "OVERLAY",
        backing_file="elsewhere.qcow2",
        backing_path="/run/elsewhere.qcow2",
        backing_format="raw",
        virtual_size=2 * GiB,
        compat="0.10",
    )
    message = failed(observation([], [], overlay=overlay))["overlay-backing"]
    for words in (
        "compat 0.10",
        "resolves to '/run/elsewhere.qcow2'",
        "backing format is 'raw'",
        "virtual size 2147483648 in OVERLAY, 1073741824 in ACTIVE",
    ):
        assert words in message


def test_active_untouched_reports_a_changed_bit_and_data():
    after = image("ACTIVE", [bitmap("a", dirty=[(0, 512)])], data_digest="d1")
    message = failed(observation([bitmap("a")], [bitmap("a")], after=(after,)))["active-untouched"]
    assert "ACTIVE: bitmaps changed: 'a': dirty bits none became 0+512" in message
    assert "ACTIVE: guest data changed" in message


def test_a_timeout_fails_completes_and_errors_the_rest():
    run = RunFacts("fake", 124, True, 30, 30.0, "")
    obs = observation([], [], run=run, overlay_exists=False)
    assert judge("completes", obs).message == "timed out after 30 s"
    assert judge("carry-recording", obs).outcome == "error"


def test_an_unreadable_overlay_fails_overlay_backing_only():
    obs = dataclasses.replace(
        observation([], []),
        overlay=None,
        overlay_error="OVERLAY is not a readable image: bad magic",
    )
    assert judge("overlay-backing", obs).outcome == "failed"
    assert judge("carry-recording", obs).outcome == "error"
    assert judge("active-untouched", obs).outcome == "passed"


# Chains are listed top first.
CHAINS = [
    ([image("ACTIVE", [bitmap("c")]), image("layer0", [bitmap("c")])], set()),
    ([image("ACTIVE"), image("layer0", [bitmap("c")])], {"chain-top", "chain-contiguous"}),
    (
        [image("ACTIVE", [bitmap("c")]), image("layer1"), image("layer0", [bitmap("c")])],
        {"chain-contiguous"},
    ),
    (
        [image("ACTIVE", [bitmap("c")]), image("layer0", [bitmap("c", auto=False)])],
        {"chain-recording"},
    ),
    ([image("ACTIVE", [bitmap("c", in_use=True)])], {"chain-consistent"}),
    # Below a gap nothing counts: the run from the top is ACTIVE alone.
    (
        [
            image("ACTIVE", [bitmap("c")]),
            image("layer1"),
            image("layer0", [bitmap("c", in_use=True)]),
        ],
        {"chain-contiguous"},
    ),
]


@pytest.mark.parametrize("chain, broken", CHAINS)
def test_chain_rules(chain, broken):
    checks = {
        "chain-top": chain_top,
        "chain-contiguous": chain_contiguous,
        "chain-recording": chain_recording,
        "chain-consistent": chain_consistent,
    }
    assert {rule for rule, check in checks.items() if check(chain, "c")} == broken


def test_a_checkpoint_invalid_before_is_skipped_not_failed():
    obs = observation([bitmap("c", auto=False)], [])
    before = judge("chain-recording", obs, Subject("checkpoint", "c", "before"))
    after = judge("chain-recording", obs, Subject("checkpoint", "c", "after"))
    assert before.outcome == after.outcome == "skipped"
    assert "not a valid checkpoint before the snapshot" in after.message


def test_backup_ready_sees_writes_its_bitmaps_missed():
    obs = observation([bitmap("a")], [bitmap("a")], writes={"a": ((1 << 20, 4096),)})
    obs = dataclasses.replace(obs, probe=probe_of(obs, [bitmap("a", dirty=[(0, 65536)])]))
    # ACTIVE's bitmap lost the write made before the snapshot: only (c) sees it.
    assert backup_ready(obs) == [
        "(c) checkpoint 'a': writes at 1048576+4096 are in no bitmap of its chain;"
        " an incremental backup would miss them"
    ]


def test_backup_ready_wants_exactly_the_written_clusters():
    obs = observation([bitmap("a")], [bitmap("a")])
    obs = dataclasses.replace(obs, probe=probe_of(obs, [bitmap("a", dirty=[(0, 131072)])]))
    assert backup_ready(obs) == [
        "(a) 'a': OVERLAY has dirty bits at 0+131072, expected 0+65536 for the writes made"
    ]


# What an image holds of a checkpoint: nothing, or a bitmap (in_use, auto).
HOLDS = [None, (False, True), (False, False), (True, True), (True, False)]


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_the_chain_rules_and_the_shared_valid_chain_agree_on_every_small_chain(depth):
    # The judge's four rules and scenarios.checkpoints.valid_chain (which the scenario
    # model uses too) are one definition: they agree on every chain of up to 4 images.
    for holds in itertools.product(HOLDS, repeat=depth):
        chain = [
            image(f"layer{i}", () if h is None else (bitmap("cp", in_use=h[0], auto=h[1]),))
            for i, h in enumerate(holds)
        ]
        assert valid_chain(held(chain, "cp")) == (not chain_problems(chain, "cp")), holds
