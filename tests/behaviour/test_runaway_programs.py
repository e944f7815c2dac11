"""The harness under fault: programs that are killed, hang, fill the disk or litter.

Each is reported as such, the run goes on for the others, and the harness
writes nothing outside its own temporary folders.
"""

import json
import os

from qcow2_conformance.implementations.external import ExternalProgram
from qcow2_conformance.rules import HARDENING, rules_of
from qcow2_conformance.scenarios.model import SNAPSHOT
from qcow2_conformance.tools import files

from support import FAULTY, ROOT, conformance, failed_rules, faulty

MiB = 1 << 20


def test_a_disk_filler_is_stopped_at_the_size_cap_and_its_file_reported(pipeline, catalog):
    filler = ExternalProgram(os.path.join(FAULTY, "fills_disk.sh"), max_file_size=8 * MiB)
    verdicts = pipeline.verdicts(filler, catalog["recording-alone"])
    assert failed_rules(verdicts) == {"completes", "overlay-only"}
    assert "killed by SIGXFSZ" in verdicts[("completes", "")].message
    assert verdicts[("overlay-only", "")].message == (
        "left overlay.qcow2.copy (8.0 MiB) beside OVERLAY"
    )


def test_litter_in_home_and_beside_active_is_reported(pipeline, catalog):
    verdicts = pipeline.verdicts(faulty("writes_outside.py"), catalog["recording-alone"])
    message = verdicts[("overlay-only", "")].message
    assert "left home/.snapshot-history (" in message
    assert "left snapshot.log (" in message


def _repo_files(tools):
    """The checkout's files, but for the venv, tox's and the qemu releases' caches, bytecode
    and hypothesis's folder.

    Other tests may change those meanwhile: another test's bin/conformance may
    redo the venv, and hypothesis, in the other worker, rewrites its files
    under .hypothesis/ (it failed this test once so).
    """
    return {
        path: stat
        for path, stat in files.listing(tools.host, ROOT).items()
        if not path.startswith((".venv/", ".tox/", ".cache/", ".git/", ".hypothesis/"))
        and "__pycache__" not in path
    }


def test_a_run_with_misbehaving_programs_goes_on_and_stays_in_its_folders(tools, tmp_path):
    programs = {
        name: os.path.join(FAULTY, name)
        for name in ("killed.sh", "hangs.sh", "fills_disk.sh", "writes_outside.py")
    }
    repo_before = _repo_files(tools)
    assert files.listing(tools.host, str(tmp_path)) == {}
    out = conformance(
        tools,
        f"--basetemp={tmp_path / 'harness'}",
        f"--results={tmp_path / 'r.json'}",
        "-n",
        "2",
        "--impl-timeout=3",
        "--impl-max-file=8",
        "--scenario=recording-alone",
        "--impl=reference",
        *(f"--impl=exec:{path}" for path in programs.values()),
    )
    assert out.rc == 1, out.stdout[-2000:]

    records = json.loads((tmp_path / "r.json").read_text())["results"]
    by_impl = {}
    for record in records:
        by_impl.setdefault(record["implementation"], {})[record["rule"]] = record
    # The run went on: every implementation has a verdict for every rule of the scenario.
    assert set(by_impl) == {"reference"} | {f"exec:{p}" for p in programs.values()}
    judged = {r.id for r in rules_of(SNAPSHOT) if r.judged_on != HARDENING}
    for verdicts in by_impl.values():
        assert set(verdicts) == judged

    def said(program, rule):
        found = by_impl[f"exec:{programs[program]}"][rule]
        return found["outcome"], found["message"]

    assert {r["outcome"] for r in by_impl["reference"].values()} <= {"passed", "skipped"}
    assert said("killed.sh", "completes")[1].startswith("exit status 137 (killed by SIGKILL)")
    assert said("hangs.sh", "completes") == ("failed", "timed out after 3 s")
    assert "killed by SIGXFSZ" in said("fills_disk.sh", "completes")[1]
    assert said("fills_disk.sh", "overlay-only") == (
        "failed",
        "left overlay.qcow2.copy (8.0 MiB) beside OVERLAY",
    )
    assert said("writes_outside.py", "completes")[0] == "passed"
    assert said("writes_outside.py", "overlay-only")[0] == "failed"

    # Nothing outside the harness's temporary folder and its results.
    made = set(files.listing(tools.host, str(tmp_path)))
    assert {p for p in made if not p.startswith("harness/")} == {
        "r.json",
        "r.junit.xml",
        "r.report.html",
        "r.summary.md",
    }
    assert _repo_files(tools) == repo_before
