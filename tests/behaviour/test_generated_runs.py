"""Runs on generated scenarios: the reference clean, every faulty program caught, failures shrunk.

Each run here is bin/conformance's own pytest, on a few drawn scenarios; the
200-scenario figures come from bench/generated.py (README).
"""

import json
import os

import pytest

from qcow2_conformance.conformance.shrink import shrink, size_key
from qcow2_conformance.procedures import PROCEDURES
from qcow2_conformance.scenarios import load_file
from qcow2_conformance.scenarios.drawn import draw_into
from qcow2_conformance.scenarios.strategies import draw

from faulty_programs import SNAPSHOT_PROGRAMS as CASES
from support import ROOT, conformance, failed_rules, faulty

SEED = 11
COUNT = 12
# The first drawn scenarios that catch each faulty program, by its rules, are
# found within this many (seed SEED); a program they miss fails the test.
SEARCH = 80


def _results(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _verdicts(doc):
    return sorted(
        (r["scenario"], r["rule"], r["subject"], r["outcome"], r["message"]) for r in doc["results"]
    )


@pytest.mark.parametrize("seed", [SEED, 2024])
def test_reference_is_clean_on_generated_scenarios(tools, tmp_path, seed):
    results = tmp_path / "r.json"
    out = conformance(
        tools, "--generate", str(COUNT), "--seed", str(seed), "-n", "2", "--results", str(results)
    )
    assert out.rc == 0, out.stdout[-3000:]
    doc = _results(results)
    assert f"generated scenarios: {COUNT} drawn with seed {seed}" in out.stdout
    generated = doc["run"]["generated"]
    assert generated["seed"] == seed and generated["count"] == COUNT
    assert generated["smallest_failing"] == []
    assert "completes" in generated["rules_exercised"]
    assert "no-clobber" in generated["rules_not_exercised"]
    # Drawn scenarios are snapshot scenarios: the commit rules are not theirs to exercise.
    assert not [r for r in generated["rules_not_exercised"] if r.startswith("commit-")]
    folder = tmp_path / "r.scenarios"
    assert sorted(os.listdir(folder)) == [f"gen-{seed}-{i:04}.toml" for i in range(COUNT)]
    assert all("exercised" in s for s in doc["scenarios"].values())


def test_the_commit_reference_is_clean_and_a_faulty_commit_caught(tools, tmp_path):
    results = {}
    for name, impl in (("reference", "reference"), ("faulty", faulty("commit_adds_disabled.py"))):
        path = tmp_path / f"{name}.json"
        spec = impl if isinstance(impl, str) else impl.name
        out = conformance(
            tools,
            *("--procedure", "commit", "--generate", "30", "--seed", str(SEED), "-n", "2"),
            *("--impl", spec, "--results", str(path)),
        )
        results[name] = (out.rc, _results(path))
    rc, doc = results["reference"]
    assert rc == 0
    assert doc["run"]["procedure"] == "commit"
    # What the drawn scenarios exercised is told in the commit procedure's rules.
    generated = doc["run"]["generated"]
    assert "commit-completes" in generated["rules_exercised"]
    told = generated["rules_exercised"] + generated["rules_not_exercised"]
    assert told and all(r.startswith("commit-") for r in told)
    assert {r["scenario"] for r in doc["results"]} == {
        f"gen-commit-{SEED}-{i:04}" for i in range(30)
    }
    rc, doc = results["faulty"]
    assert rc == 1
    assert "commit-recording" in {r["rule"] for r in doc["results"] if r["outcome"] == "failed"}


def test_a_written_scenario_reproduces_its_verdicts_alone(tools, tmp_path):
    first, again = tmp_path / "first.json", tmp_path / "again.json"
    out = conformance(
        tools, "--generate", "6", "--seed", str(SEED), "-n", "0", "--results", str(first)
    )
    assert out.rc == 0, out.stdout[-3000:]
    name = f"gen-{SEED}-0004"
    out = conformance(
        tools,
        "--scenarios",
        str(tmp_path / "first.scenarios"),
        "--scenario",
        name,
        "-n",
        "0",
        "--results",
        str(again),
    )
    assert out.rc == 0, out.stdout[-3000:]
    alone = _verdicts(_results(again))
    assert alone and alone == [v for v in _verdicts(_results(first)) if v[0] == name]


def test_the_written_files_are_the_drawn_ones_byte_for_byte(tmp_path):
    draw_into(str(tmp_path / "a"), 30, SEED, PROCEDURES["snapshot"])
    draw_into(str(tmp_path / "b"), 30, SEED, PROCEDURES["snapshot"])
    names = sorted(os.listdir(tmp_path / "a"))
    assert names == sorted(os.listdir(tmp_path / "b")) and len(names) == 30
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


@pytest.fixture(scope="module")
def drawn():
    return draw(SEARCH, SEED, PROCEDURES["snapshot"]).scenarios


PROGRAMS = sorted({(program, frozenset(rules)) for program, _, rules in CASES})


@pytest.mark.parametrize("program, rules", PROGRAMS, ids=[p for p, _ in PROGRAMS])
def test_every_faulty_program_is_caught_on_generated_scenarios(program, rules, pipeline, drawn):
    missed = set(rules)
    for scenario in drawn:
        missed -= failed_rules(pipeline.verdicts(faulty(program), scenario))
        if not missed:
            break
    assert missed == set(), f"{program}: no generated scenario of seed {SEED} trips {missed}"


def test_a_fault_only_long_names_show_is_shrunk_to_one_or_two_images(pipeline, drawn):
    program = faulty("truncates_long_names.py")
    failing = [
        s for s in drawn[:30] if "carry-recording" in failed_rules(pipeline.verdicts(program, s))
    ]
    start = next((s for s in failing if len(s.images) >= 3), None)
    assert start is not None, "no generated scenario of 3 images or more trips the planted fault"
    # Start from that one: the others answer "passes", so the replay goes on to it.
    known = {s.chain_digest(): s is start for s in drawn[:30]}
    smaller = shrink(
        pipeline, program, "carry-recording", SEED, 0, known, 90, PROCEDURES["snapshot"]
    )
    assert smaller is not None and len(smaller.images) <= 2
    assert size_key(smaller) < size_key(start)
    assert max(len(b.name.encode()) for i in smaller.images for b in i.bitmaps) > 255
    assert "carry-recording" in failed_rules(pipeline.verdicts(program, smaller))


def test_shrink_writes_the_smallest_failing_scenario_and_the_report_names_it(tools, tmp_path):
    results = tmp_path / "r.json"
    program = os.path.join(ROOT, "tests", "faulty", "truncates_long_names.py")
    # Seed 18 draws one failing scenario among 3, of 23 MB and two bitmaps; -k: one
    # rule's tests, so only that rule is shrunk.
    out = conformance(
        tools,
        "--generate",
        "3",
        "--seed",
        "18",
        "--impl",
        f"exec:{program}",
        "--shrink",
        "--shrink-budget",
        "60",
        "-n",
        "0",
        "-k",
        "carry-recording",
        "--results",
        str(results),
    )
    assert out.rc == 1, out.stdout[-3000:]
    found = {f["rule"]: f for f in _results(results)["run"]["generated"]["smallest_failing"]}
    carry = found["carry-recording"]
    assert carry["scenario"] == "shrunk-carry-recording"
    assert carry["shrunk_from"] == "gen-18-0002"
    (shrunk,) = load_file(str(tmp_path / "r.scenarios" / "shrunk-carry-recording.toml"))
    assert shrunk.name == "shrunk-carry-recording" and len(shrunk.images) <= 2
    assert "smallest failing scenario of carry-recording" in out.stdout
    assert "shrunk-carry-recording" in (tmp_path / "r.summary.md").read_text()
    assert "shrunk-carry-recording" in (tmp_path / "r.report.html").read_text()
