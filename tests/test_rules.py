"""Rules are pure functions over facts: judged here on hand-made facts."""

import dataclasses

import pytest

from implementations.base import RunFacts
from observe.facts import BitmapFacts, ImageFacts, Observation
from rules import verdict

ACTIVE_PATH = "/run/active.qcow2"


def bitmap(name, *, in_use=False, auto=True, granularity=65536, dirty=()):
    return BitmapFacts(name, in_use, auto, granularity, dirty)


def image(role, bitmaps=(), **changes):
    facts = ImageFacts(role=role, path=ACTIVE_PATH if role == "ACTIVE" else f"/run/{role}",
                       format="qcow2", compat="1.1", virtual_size=1 << 30, cluster_size=65536,
                       backing_file=None, backing_path=None, backing_format=None,
                       bitmaps=tuple(bitmaps), allocated=(), data_digest="d0")
    return dataclasses.replace(facts, **changes)


def observation(active_bitmaps, overlay_bitmaps, *, run=None, overlay=None, after=None):
    active = image("ACTIVE", active_bitmaps)
    if overlay is None:
        overlay = image("OVERLAY", overlay_bitmaps, backing_file=ACTIVE_PATH,
                        backing_path=ACTIVE_PATH, backing_format="qcow2")
    run = run or RunFacts("fake", 0, False, 30, 0.1, "", True)
    return Observation(run, (active,), after or (active,), overlay, None, {"leaks": 0})


def failed(obs):
    return {r: v.message for r, v in verdict.judge_all(obs).items() if v.outcome == "failed"}


def test_a_correct_overlay_passes_everything():
    active = [bitmap("a"), bitmap("off", auto=False), bitmap("x", in_use=True)]
    assert failed(observation(active, [bitmap("a")])) == {}


@pytest.mark.parametrize("active, overlay, rule, message", [
    ([bitmap("a")], [], "carry-recording", "bitmap 'a': recording in ACTIVE, missing from OVERLAY"),
    ([bitmap("a", granularity=131072)], [bitmap("a")], "same-granularity",
     "bitmap 'a': granularity 65536 in OVERLAY, 131072 in ACTIVE"),
    ([bitmap("a")], [bitmap("a", auto=False)], "overlay-recording",
     "bitmap 'a' in OVERLAY is not recording (no auto flag)"),
    ([bitmap("a")], [bitmap("a", in_use=True)], "overlay-consistent",
     "bitmap 'a' in OVERLAY is inconsistent (in-use flag set)"),
    ([bitmap("d", auto=False)], [bitmap("d")], "skip-disabled",
     "bitmap 'd': disabled in ACTIVE, yet present in OVERLAY"),
    ([bitmap("x", in_use=True)], [bitmap("x")], "skip-inconsistent",
     "bitmap 'x': inconsistent in ACTIVE, yet present in OVERLAY"),
    ([], [bitmap("new")], "no-foreign-bitmaps", "bitmap 'new' in OVERLAY is not in ACTIVE"),
    ([bitmap("a")], [bitmap("a", dirty=((0, 65536),))], "overlay-fresh",
     "bitmap 'a' in OVERLAY has dirty bits at 0+65536, expected none"),
])
def test_each_rule_names_what_it_expected_and_saw(active, overlay, rule, message):
    assert failed(observation(active, overlay)) == {rule: message}


def test_names_are_compared_byte_for_byte():
    obs = observation([bitmap("Daily"), bitmap("daily ")], [bitmap("daily"), bitmap("daily ")])
    assert set(failed(obs)) == {"carry-recording", "no-foreign-bitmaps"}


def test_overlay_backing_checks_format_size_and_target():
    overlay = image("OVERLAY", backing_file="elsewhere.qcow2", backing_path="/run/elsewhere.qcow2",
                    backing_format="raw", virtual_size=2 << 30, compat="0.10")
    message = failed(observation([], [], overlay=overlay))["overlay-backing"]
    for words in ("compat 0.10", "resolves to '/run/elsewhere.qcow2'", "backing format is 'raw'",
                  "virtual size 2147483648 in OVERLAY, 1073741824 in ACTIVE"):
        assert words in message


def test_active_untouched_reports_a_changed_bit_and_data():
    before = image("ACTIVE", [bitmap("a")])
    after = image("ACTIVE", [bitmap("a", dirty=((0, 512),))], data_digest="d1")
    obs = observation([bitmap("a")], [bitmap("a")], after=(after,))
    obs = dataclasses.replace(obs, before=(before,))
    message = failed(obs)["active-untouched"]
    assert "ACTIVE: bitmaps changed: 'a': dirty bits none became 0+512" in message
    assert "ACTIVE: guest data changed" in message


def test_a_timeout_fails_completes_and_errors_the_rest():
    run = RunFacts("fake", 124, True, 30, 30.0, "", False)
    verdicts = verdict.judge_all(observation([], [], run=run))
    assert verdicts["completes"].message == "timed out after 30 s"
    assert {v.outcome for r, v in verdicts.items() if r != "completes"} == {"error"}


def test_an_unreadable_overlay_fails_overlay_backing_only():
    obs = dataclasses.replace(observation([], []), overlay=None,
                              overlay_error="OVERLAY is not a readable image: bad magic")
    verdicts = verdict.judge_all(obs)
    assert verdicts["overlay-backing"].outcome == "failed"
    assert verdicts["carry-recording"].outcome == "error"
    assert verdicts["active-untouched"].outcome == "passed"
