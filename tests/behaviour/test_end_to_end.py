"""The conformance suite as users run it: a separate pytest, results on disk."""

import json
import os
import re
import shutil
import uuid

import pytest

from qcow2_conformance.implementations.external import scratch_prefix
from qcow2_conformance.rules import HARDENING, rules_of
from qcow2_conformance.scenarios.model import SNAPSHOT
from qcow2_conformance.tools import command, files

from support import FAULTY, ROOT, conformance

RUN_FIELDS = {
    "implementation",
    "qemu_img",
    "qemu_version",
    "host",
    "host_name",
    "started",
    "finished",
    "harness_version",
    "qemu",
    "qemu_versions",
    "procedure",
}


def test_exec_program_is_judged_and_results_written(tools, tmp_path):
    results = tmp_path / "r.json"
    program = os.path.join(FAULTY, "omits_granularity.py")
    out = conformance(
        tools,
        f"--impl=exec:{program}",
        f"--results={results}",
        "-n",
        "2",
        "--scenario=granularity-128k",
        "--scenario=recording-alone",
        "-v",
    )
    assert out.rc == 1, out.stdout[-2000:]
    doc = json.loads(results.read_text())
    assert set(doc["run"]) == RUN_FIELDS
    assert doc["run"]["implementation"] == f"exec:{program}"
    assert doc["run"]["qemu_version"].startswith("qemu-img version")
    records = doc["results"]
    judged_everywhere = {r.id for r in rules_of(SNAPSHOT) if r.judged_on != HARDENING}
    assert {r["rule"] for r in records} == judged_everywhere
    for record in records:
        assert {
            "implementation",
            "scenario",
            "rule",
            "subject",
            "family",
            "outcome",
            "message",
            "host",
        } == set(record)
        assert record["host"] == doc["run"]["host_name"]
        assert record["outcome"] in ("passed", "failed", "error", "skipped")
    failed = [r for r in records if r["outcome"] == "failed"]
    assert [(r["scenario"], r["rule"], r["subject"]) for r in failed] == [
        ("granularity-128k", "same-granularity", "")
    ]
    assert failed[0]["message"] == (
        "bitmap 'g128k': granularity 65536 in OVERLAY, 131072 in ACTIVE"
    )
    assert (tmp_path / "r.junit.xml").exists()
    report = (tmp_path / "r.report.html").read_text()
    assert "bitmap &#x27;g128k&#x27;: granularity 65536 in OVERLAY" in report
    assert "NOT conformant" in (tmp_path / "r.summary.md").read_text()
    assert set(json.loads(results.read_text())["scenarios"]) == {
        "granularity-128k",
        "recording-alone",
    }
    assert "rule verdicts" in out.stdout and "same-granularity" in out.stdout
    # With -v, the failing test shows every command the harness ran for its run.
    commands = out.stdout.split("Captured harness commands setup", 1)[1].splitlines()
    assert any(
        program in line and line.endswith(" s") and "-> exit 0 in" in line for line in commands[:60]
    )


def test_reference_passes_with_parallel_workers(tools, tmp_path):
    results = tmp_path / "r.json"
    out = conformance(
        tools,
        f"--results={results}",
        "-n",
        "2",
        "--scenario=mixed-interleaved",
        "--scenario=chain-depth-5",
        "--scenario=names-shell",
    )
    assert out.rc == 0, out.stdout[-2000:]
    records = json.loads(results.read_text())["results"]
    assert {r["outcome"] for r in records} == {"passed", "skipped"}
    assert {
        "backup-ready",
        "qemu-img-agrees",
        "chain-top",
        "chain-contiguous",
        "chain-recording",
        "chain-consistent",
    } <= {r["rule"] for r in records}
    assert {r["implementation"] for r in records} == {"reference"}


@pytest.mark.parametrize(
    "args, words",
    [
        (["--impl=nonsense"], ["--impl nonsense", "unknown implementation", "exec:PATH"]),
        (["--impl=exec:/does/not/exist"], ["/does/not/exist does not exist"]),
        (["--impl=exec:" + os.path.join(FAULTY, "recipe.py")], ["not executable", "chmod +x"]),
        (["--qemu-img=/does/not/exist/qemu-img"], ["qemu-img not found", "--qemu-img"]),
        (["--scenario=no-such-scenario"], ["--scenario no-such-scenario", "unknown scenario"]),
        (["--results=/does/not/exist/r.json"], ["folder /does/not/exist does not exist"]),
        (["--impl-timeout=0"], ["--impl-timeout 0", "must be above 0"]),
        (["--impl-max-file=-1"], ["--impl-max-file -1", "must be above 0"]),
        (["--procedure=merge"], ["--procedure merge", "unknown procedure", "snapshot, commit"]),
        (
            ["--scenario=commit-one-active"],
            ["--scenario commit-one-active", "commit procedure", "add --procedure commit"],
        ),
        (
            ["--procedure=commit", "--scenario=recording-alone"],
            ["--scenario recording-alone", "snapshot procedure", "add --procedure snapshot"],
        ),
        (["--generate=0"], ["--generate 0", "at least 1"]),
        (["--seed=3"], ["--seed", "add --generate N"]),
        (["--shrink"], ["--shrink", "add --generate N"]),
        (["--generate=2", "--seed=-1"], ["--seed -1", "0 or more"]),
        (["--generate=2", "--scenarios=scenarios"], ["--generate", "without --generate"]),
        (
            ["--generate=2", "--shrink", "--shrink-budget=0"],
            ["--shrink-budget 0", "must be above 0"],
        ),
        (["--target-dir=/does/not/exist"], ["--target-dir /does/not/exist", "no such folder"]),
    ],
)
def test_bad_input_stops_the_run_with_one_line(tools, args, words):
    out = conformance(tools, *args)
    assert out.rc == 2
    lines = [line for line in (out.stdout + out.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    for word in words:
        assert word in lines[0]


def test_a_too_old_qemu_img_stops_the_run(tools, tmp_path):
    old = tmp_path / "qemu-img"
    old.write_text("#!/bin/sh\necho 'qemu-img version 4.2.1 (Debian 1:4.2-3)'\n")
    old.chmod(0o755)
    (tmp_path / "qemu-io").symlink_to(tools.qemu_io)
    out = conformance(tools, f"--qemu-img={old}")
    lines = [line for line in (out.stdout + out.stderr).splitlines() if line.strip()]
    assert out.rc == 2 and len(lines) == 1
    assert "too old" in lines[0] and "4.2.1" in lines[0] and "qemu 5.0 or newer" in lines[0]


@pytest.mark.parametrize("make", ["directory", "dangling-link"])
def test_an_unreadable_scenario_file_stops_the_run(tools, tmp_path, make):
    path = tmp_path / "broken.toml"
    if make == "directory":
        path.mkdir()
    else:
        path.symlink_to(tmp_path / "missing")
    out = conformance(tools, f"--scenarios={tmp_path}")
    lines = [line for line in (out.stdout + out.stderr).splitlines() if line.strip()]
    assert out.rc == 2 and len(lines) == 1
    assert f"{path}: cannot read scenario file" in lines[0]


def test_a_broken_scenario_file_stops_the_run(tools, tmp_path):
    (tmp_path / "mine.toml").write_text(
        '[[scenario]]\nname = "x"\n[[scenario.image]]\nsize = 1\nwrong = 2\n'
    )
    out = conformance(tools, f"--scenarios={tmp_path}")
    assert out.rc == 2
    assert "mine.toml: scenario 'x': image 1: unknown field 'wrong'" in out.stdout + out.stderr


def test_a_worker_that_dies_loses_only_its_own_results(tools, tmp_path):
    results = tmp_path / "r.json"
    killer = os.path.join(FAULTY, "kills_worker.py")
    # No restarts: xdist's own restarts of dying workers race (seen: INTERNALERROR).
    token = uuid.uuid4().hex
    out = conformance(
        tools,
        f"--results={results}",
        "-n",
        "2",
        "--max-worker-restart=0",
        f"--testrunuid={token}",
        "--impl=reference",
        f"--impl=exec:{killer}",
        "--scenario=recording-alone",
    )
    assert out.rc != 0
    # The killed worker never removed its program's HOME/TMPDIR folder; the controller did.
    assert files.mkdtemps(tools.host, scratch_prefix(token[:12])) == []
    doc = json.loads(results.read_text())
    kept = {r["implementation"] for r in doc["results"] if r["outcome"] == "passed"}
    assert kept <= {"reference"}
    missing = doc["run"]["missing"]
    assert missing and all("recording-alone:" in m for m in missing)
    # Every test collected, one per (implementation, scenario, rule), is either in the
    # results or listed as missing.
    collected = int(re.search(r"\[(\d+) items\]", out.stdout).group(1))
    tests = {(r["implementation"], r["scenario"], r["rule"]) for r in doc["results"]}
    assert len(tests) + len(missing) == collected


def test_relative_paths_mean_the_folder_bin_conformance_was_called_in(tools, tmp_path):
    # bin/conformance runs pytest in the harness's folder; the user typed these paths here.
    (tmp_path / "tools").mkdir()
    os.symlink(os.path.join(FAULTY, "plain_recipe.py"), tmp_path / "tools" / "snap")
    (tmp_path / "out").mkdir()
    out = command.run(
        tools.host,
        [
            os.path.join(ROOT, "bin", "conformance"),
            "--impl=exec:tools/snap",
            "--results=out/r.json",
            "--scenario=recording-alone",
            "-n",
            "0",
        ],
        cwd=tmp_path,
        check=False,
        timeout=600,
    )
    assert out.rc == 0, out.stdout[-2000:] + out.stderr[-2000:]
    doc = json.loads((tmp_path / "out" / "r.json").read_text())
    assert {r["implementation"] for r in doc["results"]} == {"exec:tools/snap"}
    assert (tmp_path / "out" / "r.report.html").exists()


def test_a_scenario_named_like_one_of_the_catalogs_stops_the_run(tools, tmp_path):
    # --scenarios adds to the catalog: a copy of a catalog file would shadow its scenarios.
    catalog = os.path.join(ROOT, "qcow2_conformance", "scenarios")
    shutil.copy(os.path.join(catalog, "commit-formats.toml"), tmp_path / "mine.toml")
    out = conformance(tools, f"--scenarios={tmp_path}")
    lines = [line for line in (out.stdout + out.stderr).splitlines() if line.strip()]
    assert out.rc == 2 and len(lines) == 1
    assert f"--scenarios: {tmp_path}/mine.toml: scenario " in lines[0]
    assert f"has the name of the catalog's scenario in {catalog}/commit-formats.toml" in lines[0]


def test_scenarios_adds_to_the_catalog(tools, tmp_path):
    (tmp_path / "mine.toml").write_text(
        '[[scenario]]\nname = "my-own"\n[[scenario.image]]\nsize = "1M"\n'
        '[[scenario.image.bitmap]]\nname = "b"\n'
    )
    results = tmp_path / "r.json"
    out = conformance(
        tools,
        f"--scenarios={tmp_path}",
        "--scenario=my-own",
        "--scenario=recording-alone",
        f"--results={results}",
        "-n",
        "0",
    )
    assert out.rc == 0, out.stdout[-2000:]
    judged = {r["scenario"] for r in json.loads(results.read_text())["results"]}
    assert judged == {"my-own", "recording-alone"}
