"""The exit statuses docs/exit-statuses.md promises, each from a real run.

0: every conformance rule held (advisory findings only warn);
1: a conformance rule failed, or --strict-advisory and an advisory finding;
2: bad input, found before any scenario runs (here and tests/behaviour/test_end_to_end.py);
3: a bug of the harness (pytest's internal error);
130, 143: interrupted by SIGINT (Ctrl-C) or SIGTERM (tests/behaviour/test_interrupt.py).
"""

import os
import re
import socket
import subprocess
import sys

import pytest

from qcow2_conformance.reports import results
from qcow2_conformance.tools import command, locks, virsh

from support import FAULTY, ROOT, conformance, tox_conformance

CASES = [
    # (implementation, scenario, extra options, exit status, a line the run ends with)
    ("reference", "recording-alone", [], 0, "conformance: every snapshot and chain rule held"),
    (
        "omits_granularity.py",
        "granularity-128k",
        [],
        1,
        "conformance: 1 snapshot and chain verdicts failed or not evaluated",
    ),
    (
        "plain_recipe.py",
        "hardening-existing-overlay",
        [],
        0,
        "warning: 1 advisory findings (hardening); not part of conformance;"
        " --strict-advisory makes them fail the run",
    ),
    (
        "plain_recipe.py",
        "hardening-existing-overlay",
        ["--strict-advisory"],
        1,
        "warning: 1 advisory findings (hardening); --strict-advisory: they fail the run",
    ),
    (
        "reference",
        "recording-alone",
        ["--strict-advisory"],
        0,
        "conformance: every snapshot and chain rule held",
    ),
    (
        "commit_recipe.py",
        "commit-one-active",
        ["--procedure=commit"],
        0,
        "conformance: every commit rule held",
    ),
    (
        "commit_skips_data.py",
        "commit-one-intermediate",
        ["--procedure=commit"],
        1,
        "conformance: 1 commit verdicts failed or not evaluated",
    ),
]


@pytest.mark.parametrize("impl, scenario, extra, status, line", CASES)
def test_exit_status(tools, tmp_path, impl, scenario, extra, status, line):
    spec = impl if impl == "reference" else f"exec:{os.path.join(FAULTY, impl)}"
    out = conformance(
        tools,
        f"--impl={spec}",
        f"--scenario={scenario}",
        f"--results={tmp_path / 'r.json'}",
        "-n",
        "0",
        *extra,
    )
    assert out.rc == status, out.stdout[-2000:]
    assert line in out.stdout.splitlines(), out.stdout[-2000:]
    procedure = "commit" if "--procedure=commit" in extra else "snapshot"
    assert results.read(str(tmp_path / "r.json"))["run"]["procedure"] == procedure


def one_line(out):
    """The one line a run stopped with; fails unless there is exactly one."""
    lines = [line for line in (out.stdout + out.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    return lines[0]


def closed_port():
    """A TCP port of 127.0.0.1 that nothing listens on (it was free a moment ago)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# (options, words the one line must hold): each stops the run with exit status 2.
BAD_INPUT = [
    (["--generate=x"], ["--generate x: not a whole number"]),
    (["--seed=1.5", "--generate=2"], ["--seed 1.5: not a whole number"]),
    (["--impl-timeout=1m"], ["--impl-timeout 1m: not a number"]),
    (["--impl-max-file=big"], ["--impl-max-file big: not a number"]),
    (["--shrink-budget=soon"], ["--shrink-budget soon: not a number"]),
    (["--no-such-option"], ["--no-such-option: unknown option", "--help"]),
    (
        ["--target-host=garbage"],
        ["--target-host garbage: not a host", "local://", "ssh://[user@]host[:port]"],
    ),
    (["--impl=exec:/tmp"], ["--impl exec:/tmp: /tmp is a folder, not a program"]),
    (["--qemu=/no/such/folder"], ["--qemu /no/such/folder: no such folder", "5.2, 7.2, 10.0"]),
    (["--impl=reference", "--impl=reference"], ["--impl reference: given twice"]),
    (["--shrink-budget=5"], ["--shrink-budget", "add --shrink"]),
    (["--generate=2", "--shrink-budget=5"], ["--shrink-budget", "add --shrink"]),
    (["--results=/tmp"], ["--results /tmp: is a folder", "/tmp/results.json"]),
    (["--scenarios=/no/such/folder"], ["--scenarios: /no/such/folder: cannot read"]),
    (
        ["--impl=libvirt-live", "--libvirt-uri=garbage"],
        ["--impl libvirt-live: libvirt does not answer at garbage", "bin/libvirt-setup"],
    ),
]


@pytest.mark.parametrize("args, words", BAD_INPUT, ids=[" ".join(a) for a, _ in BAD_INPUT])
def test_bad_input_exits_2_with_one_line(tools, tmp_path, args, words):
    out = conformance(tools, *args, cwd=tmp_path)
    assert out.rc == 2, out.stdout[-2000:] + out.stderr[-2000:]
    line = one_line(out)
    for word in words:
        assert word in line
    # Refused before anything ran: no results file, no JUnit XML, no report.
    assert [p for p in tmp_path.rglob("*") if not p.is_dir()] == []


def test_an_ssh_target_that_never_answers_exits_2(tools):
    port = closed_port()
    out = conformance(tools, f"--target-host=ssh://127.0.0.1:{port}")
    assert out.rc == 2
    line = one_line(out)
    assert f"could not connect to ssh://127.0.0.1:{port}" in line, line
    assert "Connection refused" in line


def test_a_read_only_results_folder_exits_2_before_the_run(tools, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "harness-test", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"mounting a read-only tmpfs needs root: {mounted.stderr.strip()}")
    try:
        out = conformance(tools, f"--results={folder / 'r.json'}", "--scenario=recording-alone")
        assert out.rc == 2
        line = one_line(out)
        assert f"--results {folder / 'r.json'}: cannot write in {folder}" in line, line
        assert "Read-only file system" in line
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_run_that_judged_nothing_exits_1(tools, tmp_path):
    # Every test skipped: libvirt refuses a commit on a shut-off domain.
    reason = virsh.reachable(tools.host, "qemu:///system")
    if reason:
        pytest.skip(f"libvirt does not answer at qemu:///system (bin/libvirt-setup): {reason}")
    out = conformance(
        tools,
        *("--impl=libvirt-offline", "--procedure=commit", "--scenario=commit-one-active"),
        *("-n", "0", f"--results={tmp_path / 'r.json'}"),
    )
    assert out.rc == 1, out.stdout[-2000:]
    records = results.read(str(tmp_path / "r.json"))["results"]
    assert records and {r["outcome"] for r in records} == {"skipped"}
    # The adapter has no commit method: the skip line says so, and why.
    assert {r["message"] for r in records} == {
        "libvirt-offline: does not run the commit procedure: libvirt refuses a commit on a"
        " shut-off domain (virsh blockcommit needs a running domain); libvirt-live judges"
        " libvirt's commit"
    }


def test_no_test_left_to_run_exits_2(tools, tmp_path):
    out = conformance(
        tools, "--scenario=recording-alone", "-k", "no-such-test", "-n", "0", cwd=tmp_path
    )
    assert out.rc == 2
    assert "harness: no test left to run" in out.stderr


BUGGY_PLUGIN = """
def pytest_collection_modifyitems(items):
    raise RuntimeError("a bug of the harness")
"""


def test_a_bug_of_the_harness_exits_3(tools, tmp_path):
    # A plugin of the run that raises stands for a bug in one of the harness's own.
    (tmp_path / "buggy_plugin.py").write_text(BUGGY_PLUGIN)
    out = command.run(
        tools.host,
        [sys.executable, "-m", "qcow2_conformance", "-p", "buggy_plugin", "-n", "0"],
        env={"PYTHONPATH": str(tmp_path)},
        cwd=tmp_path,
        check=False,
        timeout=600,
    )
    assert out.rc == 3
    assert "INTERNALERROR" in out.stdout + out.stderr
    assert "a bug of the harness" in out.stdout + out.stderr


def test_the_console_script_and_bin_conformance_give_the_same_statuses(tools, tmp_path):
    script = os.path.join(os.path.dirname(sys.executable), "qcow2-conformance")
    wrapper = os.path.join(ROOT, "bin", "conformance")
    for argv in ([script], [wrapper]):
        for args, status in ((["--generate=x"], 2), (["--scenario=no-such"], 2)):
            out = command.run(tools.host, [*argv, *args], cwd=tmp_path, check=False, timeout=600)
            assert out.rc == status, (argv, args, out.stdout[-2000:], out.stderr[-2000:])


def documented_statuses():
    """{status: meaning} of the table of docs/exit-statuses.md."""
    with open(os.path.join(ROOT, "docs", "exit-statuses.md"), encoding="utf-8") as f:
        rows = re.findall(r"^\| (\d+) \| (.+?) \|", f.read(), re.MULTILINE)
    return {int(status): meaning for status, meaning in rows}


def test_the_docs_table_has_a_row_for_each_status_the_tests_produce():
    # 0 and 1 above (CASES), 2 (BAD_INPUT), 3 (the buggy plugin), 130 and 143
    # (tests/behaviour/test_interrupt.py), 141 (below).
    assert sorted(documented_statuses()) == [0, 1, 2, 3, 130, 141, 143]


# The reader opens the FIFO and is gone before the run starts writing to it.
# `--help | head -1` left that to the clock: the help (30 KB) fits a pipe's
# buffer, and under load all of it was written before head read a line (exit 0).
_READER_GONE = 'mkfifo out || exit 1; (exec <out) & exec 3>out; wait; exec "$@" >&3'


def test_a_reader_that_goes_away_ends_the_run_with_141_and_no_traceback(tools, tmp_path):
    out = command.run(
        tools.host,
        ["sh", "-c", _READER_GONE, "sh", sys.executable, "-m", "qcow2_conformance", "--help"],
        cwd=tmp_path,
        check=False,
    )
    assert (out.rc, out.stderr) == (141, "")


# pytest's help fills its buffer several times, so `| head -1` above may go
# away before the first write or only before the last, at exit: CI saw 120
# and "Exception ignored ... BrokenPipeError" once. This pins the second case.
# pytest.main is replaced by a writer (pure logic; no tool involved).
_LAST_WRITE_AFTER_READER_LEFT = """
import os, sys, pytest
from qcow2_conformance import cli
read_end, write_end = os.pipe()
os.dup2(write_end, sys.stdout.fileno())
def main(args, plugins):
    print("usage: qcow2-conformance [options]")
    os.close(read_end)
    return 0
pytest.main = main
sys.exit(cli.conformance(["--help"]))
"""


def test_output_left_in_the_buffer_when_the_reader_goes_away_ends_with_141():
    # Buffered, as a plain shell's python is: PYTHONUNBUFFERED would write at once.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    out = subprocess.run(
        [sys.executable, "-c", _LAST_WRITE_AFTER_READER_LEFT],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
    )
    assert (out.returncode, out.stderr) == (141, "")


def test_tox_e_conformance_gives_the_same_statuses(tools, tmp_path):
    tox, lock = tox_conformance()
    granularity = f"exec:{os.path.join(FAULTY, 'omits_granularity.py')}"
    for args, status in (
        (["--generate=x"], 2),
        (["--impl", granularity, "--scenario=granularity-128k"], 1),
        (["--scenario=recording-alone"], 0),
    ):
        argv = [*tox, *args, "-n", "0", f"--results={tmp_path / 'r.json'}"]
        with locks.held(lock):
            out = command.run(tools.host, argv, cwd=tmp_path, check=False, timeout=900)
        assert out.rc == status, (args, out.stdout[-2000:], out.stderr[-2000:])


def test_plain_pytest_keeps_its_own_usage_error(tools, tmp_path):
    # Without the console script, pytest's usage text and status 4 (docs/exit-statuses.md).
    suite = os.path.join(ROOT, "qcow2_conformance", "conformance")
    out = command.run(
        tools.host,
        [sys.executable, "-m", "pytest", suite, "--generate=x"],
        cwd=tmp_path,
        check=False,
        timeout=600,
    )
    assert out.rc == 4
    assert "usage:" in out.stderr and "--generate x: not a whole number" in out.stderr
