"""An exec: program runs as it would in the user's shell, with exactly the
changes README's "Judging your own tool" lists.
"""

import os

import pytest

from implementations.external import SCRATCH_PREFIX, ExternalProgram

from support import ROOT

PROGRAMS = os.path.join(ROOT, "tests", "programs")


def program(name):
    return ExternalProgram(os.path.join(PROGRAMS, name))


# Sockets under TMPDIR: a control socket of its own, and qemu-storage-daemon's QMP monitor.
CONFORMANT = [(name, scenario) for name in ("unix_socket.py", "qmp_snapshot.py")
              for scenario in ("recording-alone", "mixed-skipped-between", "names-shell")]


@pytest.mark.parametrize("name, scenario", CONFORMANT,
                         ids=[f"{n}:{s}" for n, s in CONFORMANT])
def test_a_program_with_a_unix_socket_in_tmpdir_passes_every_rule(name, scenario, pipeline,
                                                                   catalog):
    verdicts = pipeline.verdicts(program(name), catalog[scenario])
    assert {k: v.message for k, v in verdicts.items()
            if v.outcome not in ("passed", "skipped")} == {}


ENDINGS = ["exits", "fails", "hangs"]


@pytest.mark.parametrize("ending", ENDINGS)
def test_home_and_tmpdir_are_removed_and_what_was_left_there_is_reported(
        ending, tools, tmp_path, monkeypatch):
    report = tmp_path / "home-was"
    monkeypatch.setenv("HARNESS_TEST_REPORT", str(report))
    monkeypatch.setenv("HARNESS_TEST_ENDING", ending)
    run = tmp_path / "run"
    run.mkdir()
    facts = program("litters.sh").run(tools, str(run / "active.qcow2"), str(run / "overlay.qcow2"),
                                      cwd=str(run), timeout=2)
    assert (facts.exit_status, facts.timed_out) == {
        "exits": (0, False), "fails": (3, False), "hangs": (124, True)}[ending]
    assert facts.scratch_files == (("home/.tool-history", 8), ("tmp/work/left.tmp", 8))
    home = report.read_text().strip()
    assert home.startswith(f"/tmp/{SCRATCH_PREFIX}.")
    assert not os.path.exists(os.path.dirname(home))
    assert os.listdir(run) == []


def test_overlay_only_names_the_files_left_in_home_and_tmpdir(pipeline, catalog, tmp_path,
                                                             monkeypatch):
    monkeypatch.setenv("HARNESS_TEST_REPORT", str(tmp_path / "home-was"))
    monkeypatch.setenv("HARNESS_TEST_ENDING", "exits")
    verdicts = pipeline.verdicts(program("litters.sh"), catalog["recording-alone"])
    assert verdicts[("overlay-only", "")].message == (
        "left home/.tool-history (8 bytes) in the folder of its HOME and TMPDIR"
        "; left tmp/work/left.tmp (8 bytes) in the folder of its HOME and TMPDIR")
