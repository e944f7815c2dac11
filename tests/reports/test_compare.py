"""reports.compare on hand-made results files, and on two real runs of a tool that moved."""

import json
import os
import shutil
import sys

import pytest

from qcow2_conformance.reports import compare, results
from qcow2_conformance.tools import command

from support import FAULTY, conformance


def record(scenario, rule, outcome, subject="", message="", impl="reference"):
    return {
        "implementation": impl,
        "scenario": scenario,
        "rule": rule,
        "subject": subject,
        "family": "snapshot",
        "outcome": outcome,
        "message": message,
    }


def doc(*records, version="qemu-img version 7.2.22"):
    return {
        "run": {"implementation": "reference", "qemu_version": version, "started": "t"},
        "results": list(records),
    }


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(json.dumps(content))
    return str(path)


OLD = doc(
    record("s1", "carry-recording", "passed"),
    record("s1", "same-granularity", "failed", message="granularity 65536 in OVERLAY"),
    record("s2", "completes", "passed"),
    record("s2", "chain-top", "passed", subject="checkpoint 'a' after"),
    record("s3", "completes", "passed"),
    record("s4", "image-check", "skipped"),
)
NEW = doc(
    record("s1", "carry-recording", "failed", message="bitmap 'b' missing"),
    record("s1", "same-granularity", "passed"),
    record("s2", "completes", "error", message="not evaluated"),
    record("s2", "chain-top", "passed", subject="checkpoint 'a' after"),
    record("s4", "image-check", "passed"),
    record("s5", "completes", "passed"),
    version="qemu-img version 10.0.2",
)


def test_changes_are_sorted_into_sections():
    found = compare.changes(OLD, NEW)
    keys = {name: [key for key, _, _ in rows] for name, rows in found.items()}
    assert keys == {
        "regressions": [
            ("reference", "s1", "carry-recording", ""),
            ("reference", "s2", "completes", ""),
        ],
        "fixes": [("reference", "s1", "same-granularity", "")],
        "other changes": [("reference", "s4", "image-check", "")],
        "appeared": [("reference", "s5", "completes", "")],
        "disappeared": [("reference", "s3", "completes", "")],
    }


def test_a_regression_exits_1_and_writes_markdown(tmp_path, capsys):
    old, new = write(tmp_path, "old.json", OLD), write(tmp_path, "new.json", NEW)
    assert compare.main([old, new]) == 1
    out = capsys.readouterr().out
    assert out.index("regressions: 2") < out.index("fixes: 1") < out.index("appeared: 1")
    assert "reference / s1 / carry-recording: passed -> failed" in out
    assert "bitmap 'b' missing" in out
    md = (tmp_path / "new.compare.md").read_text()
    assert "## Regressions (2)" in md
    assert "| reference | s1 | carry-recording |  | passed | failed | bitmap 'b' missing |" in md


@pytest.mark.parametrize("new", [OLD, doc(*OLD["results"][:2], *OLD["results"][3:])])
def test_no_regression_exits_0(tmp_path, new):
    old = write(tmp_path, "old.json", OLD)
    assert (
        compare.main([old, write(tmp_path, "new.json", new), "--markdown", str(tmp_path / "c.md")])
        == 0
    )


def test_a_file_that_is_not_results_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert compare.main([str(bad), str(bad)]) == 2
    assert capsys.readouterr().err.startswith("compare: cannot read results:")


def labelled(document, label):
    return {**document, "results": [{**r, "label": label} for r in document["results"]]}


def moved(document, impl):
    return {**document, "results": [{**r, "implementation": impl} for r in document["results"]]}


@pytest.mark.parametrize(
    "old, new, by",
    [
        # The tool moved: one implementation each, or the same label.
        (moved(OLD, "exec:/a/tool"), moved(NEW, "exec:/b/tool"), compare.BY_ONE_IMPLEMENTATION),
        (
            labelled(moved(OLD, "exec:/a/tool"), "tool"),
            labelled(moved(NEW, "exec:/b/tool"), "tool"),
            compare.BY_LABEL,
        ),
    ],
)
def test_a_tool_at_a_new_path_is_matched_with_its_old_results(old, new, by):
    assert compare.matching(old, new) == by
    found = compare.changes(old, new)
    assert [(key[1], key[2]) for key, _, _ in found["regressions"]] == [
        ("s1", "carry-recording"),
        ("s2", "completes"),
    ]
    assert len(found["appeared"]) == len(found["disappeared"]) == 1


def test_several_implementations_without_labels_are_matched_by_implementation():
    old = doc(*moved(OLD, "exec:/a/tool")["results"], *OLD["results"])
    new = doc(*moved(NEW, "exec:/b/tool")["results"], *NEW["results"])
    assert compare.matching(old, new) == compare.BY_IMPLEMENTATION
    found = compare.changes(old, new)
    assert {key[0] for key, _, _ in found["appeared"]} == {"exec:/b/tool", "reference"}
    assert {key[0] for key, _, _ in found["disappeared"]} == {"exec:/a/tool", "reference"}


def tool_at(folder, program):
    """A copy of tests/faulty/PROGRAM (and the recipe it imports) as folder/tool."""
    folder.mkdir()
    shutil.copy(os.path.join(FAULTY, "recipe.py"), folder / "recipe.py")
    shutil.copy(os.path.join(FAULTY, program), folder / "tool")
    return f"exec:{folder / 'tool'}"


@pytest.mark.parametrize("labels", [[], ["--label=snapshot-tool"]])
def test_a_tool_upgraded_at_a_new_path_that_regresses_exits_1(tools, tmp_path, labels):
    runs = {}
    for name, program in (("old", "plain_recipe.py"), ("new", "omits_granularity.py")):
        out = conformance(
            tools,
            f"--impl={tool_at(tmp_path / name, program)}",
            *labels,
            "--scenario=granularity-128k",
            f"--results={tmp_path / name}.json",
            "-n",
            "0",
        )
        assert out.rc == (0 if name == "old" else 1), out.stdout[-2000:]
        if labels:
            assert "(label snapshot-tool)" in out.stdout.splitlines()[3], out.stdout[:1000]
        runs[name] = str(tmp_path / f"{name}.json")
    out = command.run(
        tools.host,
        [sys.executable, "-m", "qcow2_conformance.reports.compare", runs["old"], runs["new"]],
        cwd=tmp_path,
        check=False,
    )
    assert out.rc == 1, out.stdout
    assert "regressions: 1" in out.stdout.splitlines()
    who = "snapshot-tool" if labels else f"exec:{tmp_path / 'new' / 'tool'}"
    assert f"  {who} / granularity-128k / same-granularity: passed -> failed" in out.stdout
    assert "appeared: 0" in out.stdout and "disappeared: 0" in out.stdout
    if labels:
        new = results.read(runs["new"])
        assert new["run"]["labels"] == {f"exec:{tmp_path / 'new' / 'tool'}": "snapshot-tool"}
        assert {r["label"] for r in new["results"]} == {"snapshot-tool"}


def test_one_label_per_implementation(tools):
    out = conformance(tools, "--impl=reference", "--label=a", "--label=b")
    lines = [line for line in (out.stdout + out.stderr).splitlines() if line.strip()]
    assert out.rc == 2 and len(lines) == 1, lines
    assert "--label given 2 times for 1 --impl" in lines[0]
