"""reports.compare on hand-made results files."""

import json

import pytest

from qcow2_conformance.reports import compare


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
