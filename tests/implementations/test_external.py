"""An exec: program runs as it would in the user's shell, with exactly the
changes README's "Judging your own tool" lists.
"""

import configparser
import os
import re
import sys

import pytest

from qcow2_conformance.implementations import external, shell_env
from qcow2_conformance.implementations.external import ExternalProgram, scratch_prefix
from qcow2_conformance.tools import command, files

from support import ROOT, failed_rules

PROGRAMS = os.path.join(ROOT, "tests", "programs")


def program(name):
    return ExternalProgram(os.path.join(PROGRAMS, name))


# Sockets under TMPDIR: a control socket of its own, and qemu-storage-daemon's QMP monitor.
CONFORMANT = [
    (name, scenario)
    for name in ("unix_socket.py", "qmp_snapshot.py")
    for scenario in ("recording-alone", "mixed-skipped-between", "names-shell")
]


@pytest.mark.parametrize("name, scenario", CONFORMANT, ids=[f"{n}:{s}" for n, s in CONFORMANT])
def test_a_program_with_a_unix_socket_in_tmpdir_passes_every_rule(
    name, scenario, pipeline, catalog
):
    verdicts = pipeline.verdicts(program(name), catalog[scenario])
    assert {
        k: v.message for k, v in verdicts.items() if v.outcome not in ("passed", "skipped")
    } == {}


# The README's table: what the harness removes from its own environment (COLUMNS
# and LINES even when only readline's setenv(3) put them there)...
REMOVED_PREFIXES = ("PYTEST_", "TOX_", "HARNESS_SHELL_")
ALWAYS_REMOVED = {"COLUMNS", "LINES"}
REMOVED_UNDER_TOX = {
    "VIRTUAL_ENV",
    "PIP_USER",
    "PIP_DISABLE_PIP_VERSION_CHECK",
    "PYTHONIOENCODING",
    "PYTHONHASHSEED",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONPYCACHEPREFIX",
    "COLUMNS",
    "LINES",
}
# ...and what any shell sets on its own.
SET_BY_SHELL = {"PWD", "OLDPWD", "SHLVL", "_"}


def _read(report):
    with open(f"{report}.env", "rb") as f:
        env = dict(item.decode().split("=", 1) for item in f.read().split(b"\0") if item)
    with open(f"{report}.facts") as f:
        facts = dict(line.rstrip("\n").split("=", 1) for line in f)
    return env, facts


def test_the_program_sees_the_shells_environment_and_what_the_harness_sets(
    pipeline, catalog, tools, tmp_path, monkeypatch
):
    report = tmp_path / "seen"
    monkeypatch.setenv("HARNESS_TEST_REPORT", str(report))
    monkeypatch.setenv("HARNESS_TEST_USER_VAR", "kept as is: $HOME 'quoted'\ntwo lines")
    # bin/conformance saves the shell's own value of a variable tox replaces.
    monkeypatch.setenv("HARNESS_SHELL_PYTHONIOENCODING", "latin-1")
    impl = program("records_environment.sh")
    verdicts = pipeline.verdicts(impl, catalog["recording-alone"])
    assert failed_rules(verdicts) == set()
    seen, facts = _read(report)

    harness = dict(os.environ)
    removed = {n for n in harness if n.startswith(REMOVED_PREFIXES) or n in ALWAYS_REMOVED}
    if "TOX_ENV_NAME" in harness:
        removed |= REMOVED_UNDER_TOX & harness.keys()
    venv_bin = os.path.join(sys.prefix, "bin")
    assert sys.prefix != sys.base_prefix, "the harness's tests run in tox's venv"
    expected = {k: v for k, v in harness.items() if k not in removed | SET_BY_SHELL}
    expected.update(
        PYTHONIOENCODING="latin-1",
        QEMU_IMG=tools.qemu_img,
        HOME=seen["HOME"],
        TMPDIR=seen["TMPDIR"],
        PATH=":".join([tools.bindir] + [d for d in harness["PATH"].split(":") if d != venv_bin]),
        # The run's own mark, which finds the processes it leaves (tools/processes.py).
        HARNESS_COMMAND=seen["HARNESS_COMMAND"],
    )
    assert {k: v for k, v in seen.items() if k not in SET_BY_SHELL} == expected

    # Spelled out, the differences that matter most.
    assert not [n for n in seen if n.startswith(("PYTEST_", "TOX_"))]
    assert "VIRTUAL_ENV" not in seen and venv_bin not in seen["PATH"].split(":")
    assert seen["PATH"].split(":")[0] == os.path.dirname(seen["QEMU_IMG"]) == tools.bindir
    assert seen["HARNESS_TEST_USER_VAR"] == harness["HARNESS_TEST_USER_VAR"]
    scratch = os.path.dirname(seen["HOME"])
    assert scratch.startswith(f"/tmp/{scratch_prefix(impl.run_token)}.")
    assert (seen["HOME"], seen["TMPDIR"]) == (f"{scratch}/home", f"{scratch}/tmp")
    assert facts["home_is_folder"] == facts["tmpdir_is_folder"] == "yes"
    assert not os.path.exists(scratch), "HOME and TMPDIR are removed after the run"

    # Its surroundings: absolute paths, the run's folder, the harness's umask, stdin
    # empty, the size cap, and a process group of its own, timeout(1)'s, its parent.
    assert facts["args"] == "2"
    assert os.path.isabs(facts["active"]) and os.path.isfile(facts["active"])
    assert facts["overlay"] == os.path.join(facts["cwd"], "overlay.qcow2")
    assert os.path.isfile(facts["overlay"])
    assert facts["cwd"].startswith(pipeline.workdir)
    assert seen.get("PWD", facts["cwd"]) == facts["cwd"]
    umask = os.umask(0o22)
    os.umask(umask)
    assert int(facts["umask"], 8) == umask
    null = os.stat("/dev/null").st_rdev
    assert facts["stdin_device"] == f"{os.major(null):x}:{os.minor(null):x}"
    assert facts["stdin_bytes"] == "0"
    assert int(facts["fsize"]) == impl.max_file_size
    with open("/proc/self/limits") as mine, open(f"{report}.limits") as its:
        assert [line for line in its if not line.startswith("Max file size")] == [
            line for line in mine if not line.startswith("Max file size")
        ]
    assert facts["pgid"] == facts["ppid"] != str(os.getpgrp())
    assert facts["parent"] == "timeout"


ENDINGS = ["exits", "fails", "hangs"]


@pytest.mark.parametrize("ending", ENDINGS)
def test_home_and_tmpdir_are_removed_and_what_was_left_there_is_reported(
    ending, tools, tmp_path, monkeypatch
):
    report = tmp_path / "home-was"
    monkeypatch.setenv("HARNESS_TEST_REPORT", str(report))
    monkeypatch.setenv("HARNESS_TEST_ENDING", ending)
    run = tmp_path / "run"
    run.mkdir()
    facts = program("litters.sh").snapshot(
        tools, str(run / "active.qcow2"), str(run / "overlay.qcow2"), cwd=str(run), timeout=2
    )
    assert (facts.exit_status, facts.timed_out) == {
        "exits": (0, False),
        "fails": (3, False),
        "hangs": (124, True),
    }[ending]
    assert facts.scratch_files == (("home/.tool-history", 8), ("tmp/work/left.tmp", 8))
    home = report.read_text().strip()
    assert home.startswith(f"/tmp/{scratch_prefix('adhoc')}.")
    assert not os.path.exists(os.path.dirname(home))
    assert os.listdir(run) == []


def test_overlay_only_names_the_files_left_in_home_and_tmpdir(
    pipeline, catalog, tmp_path, monkeypatch
):
    monkeypatch.setenv("HARNESS_TEST_REPORT", str(tmp_path / "home-was"))
    monkeypatch.setenv("HARNESS_TEST_ENDING", "exits")
    verdicts = pipeline.verdicts(program("litters.sh"), catalog["recording-alone"])
    assert verdicts[("overlay-only", "")].message == (
        "left home/.tool-history (8 bytes) in the folder of its HOME and TMPDIR"
        "; left tmp/work/left.tmp (8 bytes) in the folder of its HOME and TMPDIR"
    )


def test_tox_passes_the_whole_environment_and_every_variable_it_sets_is_taken_out():
    config = configparser.ConfigParser(interpolation=None)
    config.read(os.path.join(ROOT, "tox.ini"))
    for section in ("testenv:conformance", "testenv:qemu{52,72,100}"):
        assert config[section]["passenv"].strip() == "*", section
    set_by_tox_ini = {
        line.split("=")[0].strip()
        for section in config.values()
        for line in section.get("setenv", "").splitlines()
        if "=" in line
    }
    assert set_by_tox_ini and set_by_tox_ini <= set(shell_env.TOX_SETS)
    assert set(shell_env.TOX_SETS) == REMOVED_UNDER_TOX


def test_through_bin_conformance_the_program_sees_the_users_shell(tools, tmp_path):
    # A user's shell, run with nothing of this test's tox, venv or pytest around it,
    # holding values of variables that tox replaces.
    report = tmp_path / "seen"
    venv_bin = os.path.join(sys.prefix, "bin")
    user_path = ":".join(d for d in os.environ["PATH"].split(":") if d != venv_bin)
    user = {
        "PATH": user_path,
        "HOME": os.environ["HOME"],
        "LANG": "C.UTF-8",
        "PYTHONIOENCODING": "latin-1",
        "PYTHONHASHSEED": "5",
        "PYTHONDONTWRITEBYTECODE": "1",
        "HARNESS_TEST_USER_VAR": "from the shell",
        "HARNESS_TEST_REPORT": str(report),
    }
    program = os.path.join(PROGRAMS, "records_environment.sh")
    out = command.run(
        tools.host,
        [
            "sh",
            "-c",
            'umask 027 && exec "$@"',
            "sh",
            "env",
            "-i",
            *(f"{k}={v}" for k, v in user.items()),
            os.path.join(ROOT, "bin", "conformance"),
            f"--impl=exec:{program}",
            "--scenario=recording-alone",
            "-n",
            "0",
            f"--basetemp={tmp_path / 'harness'}",
            f"--results={tmp_path / 'r.json'}",
        ],
        cwd=ROOT,
        check=False,
        timeout=600,
    )
    assert out.rc == 0, out.stdout[-2000:] + out.stderr[-2000:]
    seen, facts = _read(report)
    assert facts["umask"] == "0027"
    scratch = os.path.dirname(seen["HOME"])
    # The run's token (12 hex digits) names the folder, for the end-of-run sweep.
    assert re.fullmatch(r"/tmp/harness-exec-[0-9a-f]{12}\.\w{6}", scratch), scratch
    assert len(seen["TMPDIR"]) == 41
    assert not os.path.exists(scratch)
    # PATH as the user's shell had it, repeats kept, behind qemu's folder.
    expected = {
        **user,
        "QEMU_IMG": tools.qemu_img,
        "HOME": f"{scratch}/home",
        "TMPDIR": f"{scratch}/tmp",
        "PATH": f"{tools.bindir}:{user_path}",
        "HARNESS_COMMAND": seen["HARNESS_COMMAND"],
    }
    assert {k: v for k, v in seen.items() if k not in SET_BY_SHELL} == expected


def test_the_sweep_removes_this_runs_folders_only(tools):
    mine = [files.mkdtemp(tools.host, scratch_prefix("0123456789ab")) for _ in range(2)]
    other = files.mkdtemp(tools.host, scratch_prefix("ba9876543210"))
    try:
        assert external.sweep(tools.host, "0123456789ab") == sorted(mine)
        assert files.mkdtemps(tools.host, scratch_prefix("0123456789ab")) == []
        assert os.path.isdir(other)
    finally:
        files.remove(tools.host, *mine, other)
