"""The pure parts of lifecycles: events and their replay file, the truth and the
expected bitmaps, and the two lifecycle rules (docs/rules.md, "Lifecycles")."""

import pytest

from qcow2_conformance.observe.lifecycle_facts import BackupFacts
from qcow2_conformance.rules import lifecycle as rules
from qcow2_conformance.scenarios import lifecycle as lc
from qcow2_conformance.scenarios.lifecycle_model import LifecycleModel, carried, committed

EVENTS = (
    lc.Write(65536, 512, 0x2A),
    lc.Checkpoint("cp0", 65536),
    lc.Checkpoint("cp1"),
    lc.Snapshot(),
    lc.ForeignSnapshot(),
    lc.Commit(2, 0),
    lc.ReuseName("cp0"),
    lc.Backup("cp1"),
    lc.Backup(None),
)


def test_a_replay_file_gives_back_every_event(tmp_path):
    lifecycle = lc.Lifecycle("reference", 4 << 20, 65536, EVENTS, "lifecycle-restore")
    path = tmp_path / "replay.json"
    lc.write_file(path, lifecycle)
    assert lc.read_file(path) == lifecycle


@pytest.mark.parametrize(
    "text, says",
    [
        ("{", "Expecting"),
        ('{"lifecycle": 9}', "not a lifecycle replay file"),
        (
            '{"lifecycle": 1, "implementation": "r", "size": 1, "cluster_size": 1,'
            ' "events": [{"event": "explode"}]}',
            "unknown event",
        ),
    ],
)
def test_a_bad_replay_file_is_one_line_naming_it(text, says):
    with pytest.raises(lc.LifecycleFileError) as e:
        lc.loads(text, "x.json")
    assert str(e.value).startswith("x.json: ") and says in str(e.value)
    assert "\n" not in str(e.value)


def test_a_write_changes_the_truth_and_a_checkpoint_keeps_it():
    model = LifecycleModel(8)
    model.apply(lc.Checkpoint("a"))
    model.apply(lc.Write(2, 3, 7))
    assert bytes(model.disk) == bytes([0, 0, 7, 7, 7, 0, 0, 0])
    assert model.truth_at("a") == bytes(8)


def test_a_snapshot_carries_and_another_tools_does_not():
    model = LifecycleModel(8)
    model.apply(lc.Checkpoint("a"))
    model.apply(lc.Snapshot())
    assert model.valid("a")
    model.apply(lc.ForeignSnapshot())
    assert not model.valid("a") and model.invalid_names() == ["a"]


def test_a_failed_snapshot_or_commit_leaves_the_chain():
    model = LifecycleModel(8)
    model.apply(lc.Snapshot(), done=False)
    model.apply(lc.Commit(1, 0), done=False)
    assert len(model.images) == 1


def test_a_name_made_again_closes_a_gap_only_right_above_it():
    model = LifecycleModel(8)
    for event in (lc.Checkpoint("a"), lc.ForeignSnapshot(), lc.ForeignSnapshot()):
        model.apply(event)
    model.apply(lc.ReuseName("a"))
    assert not model.valid("a")
    model = LifecycleModel(8)
    for event in (lc.Checkpoint("a"), lc.ForeignSnapshot(), lc.ReuseName("a")):
        model.apply(event)
    # Chain rules: one unbroken run from the top; its restore starts from the reuse.
    assert model.valid("a") and model.truth_at("a") == bytes(model.disk)


def test_a_commit_carries_what_is_valid_at_commit_top_only():
    # base holds a and b; the middle lacks b (a gap); the top holds a and b.
    images = [{"a": None, "b": None}, {"a": None}, {"a": None, "b": 512}]
    assert carried(images, 2) == ["a"]
    assert carried(images, 1) == ["a"]
    # Active commit of the gap and the top: base keeps its b, gains nothing.
    assert committed(images, 2, 0) == [{"a": None, "b": None}]
    # A name only the top held gets COMMIT_TOP's granularity in COMMIT_BASE.
    assert committed([{}, {"c": 4096}], 1, 0) == [{"c": 4096}]
    # Intermediate commit of the gap: ABOVE's b now runs into base's b again.
    assert committed(images, 1, 0) == [{"a": None, "b": None}, {"a": None, "b": 512}]


@pytest.mark.parametrize(
    "event, why",
    [
        (lc.Write(6, 4, 1), "past the disk"),
        (lc.Checkpoint("a"), "exists"),
        (lc.ReuseName("a"), "no longer valid"),
        (lc.Commit(1, 0), "no images"),
        (lc.Backup("z"), "no checkpoint"),
    ],
)
def test_an_event_that_cannot_happen_says_why(event, why):
    model = LifecycleModel(8)
    model.apply(lc.Checkpoint("a"))
    assert why in model.applies(event)


def _facts(**given):
    facts = dict(
        step=5,
        name="a",
        expected_valid=True,
        held=((True, True),),
        incremental=True,
        truth=bytes(8),
        restored=bytes(8),
        restored_on="the disk at event 2",
    )
    facts.update(given)
    return BackupFacts(**facts)


def test_backup_possible_fails_only_where_the_model_says_valid():
    assert rules.backup_possible(_facts()) == []
    assert rules.backup_possible(_facts(expected_valid=False, held=(None,))) == []
    assert rules.backup_possible(_facts(name=None, held=(None,))) == []
    (message,) = rules.backup_possible(_facts(held=(None, (True, True))))
    assert "event 5" in message and "'a'" in message and "chain-top" in message


@pytest.mark.parametrize(
    "held, rule",
    [
        (((True, True), None, (True, True)), "chain-contiguous"),
        (((True, True), (False, True)), "chain-recording"),
        (((True, False),), "chain-consistent"),
    ],
)
def test_the_refusal_names_the_chain_rule(held, rule):
    assert rule in rules.why_invalid(list(held))


def test_restore_names_the_first_wrong_offset_and_length():
    assert rules.restore(_facts()) == []
    restored = bytes([0, 0, 9, 9, 0, 9, 0, 0])
    (message,) = rules.restore(_facts(restored=restored))
    assert "checkpoint 'a'" in message and "offset 2 (0x2), 2 bytes" in message
    (message,) = rules.restore(_facts(incremental=False, name=None, restored=restored))
    assert "full backup" in message
