"""Ctrl-C in the middle of a run exits 130 (SIGTERM: 143) and leaves nothing of it running.

Each run is interrupted at a known point, not after a guessed time: once a
program it runs says it started (a marker file), or once its libvirt domain
exists. Every process of the run carries a token in its environment, so
"nothing left" covers the harness, its workers, qemu and whatever the
implementation started, including a process that left its session.
"""

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from qcow2_conformance.implementations.libvirt_domain import PREFIX
from qcow2_conformance.tools import locks, virsh

from support import ROOT, processes_with, tox_conformance

URI = "qemu:///system"
TOKEN_VARIABLE = "HARNESS_TEST_INTERRUPT"
# How long a run may take to reach the point it is interrupted at: building
# the session's chains comes first.
REACH = 300

# An implementation that says it started, then runs until it is killed: a
# child in its process group, one in a session of its own, and itself.
SLOW_PROGRAM = """#!/bin/sh
sleep 3600 &
setsid sleep 3601 &
touch "{marker}"
wait
"""

# qemu-img for the reference implementation: it hangs on the snapshot's
# first step, so the harness is interrupted while it waits for its own qemu.
SLOW_QEMU_IMG = """#!/bin/sh
case "$*" in
*overlay.qcow2*) touch "{marker}"; exec sleep 3602 ;;
esac
exec {real} "$@"
"""


def start(argv, cwd, token):
    """argv as a terminal starts it: its own process group, SIGINT at its default."""
    return subprocess.Popen(
        argv,
        cwd=cwd,
        env={**os.environ, TOKEN_VARIABLE: token},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def wait_for(sign, run, what):
    deadline = time.monotonic() + REACH
    while not sign():
        if run.poll() is not None:
            pytest.fail(f"the run ended (exit {run.returncode}) before {what}: {run.stdout.read()}")
        if time.monotonic() > deadline:
            os.killpg(run.pid, signal.SIGKILL)
            pytest.fail(f"the run did not reach {what} in {REACH} s")
        time.sleep(0.2)


def interrupt(run, signum=signal.SIGINT):
    """Ctrl-C (SIGINT to the run's process group), or signum; its exit status and output."""
    os.killpg(run.pid, signum)
    try:
        out, _ = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    return run.returncode, out.decode(errors="replace")


def conformance_argv(runner):
    if runner == "bin/conformance":
        return [os.path.join(ROOT, "bin", "conformance")]
    # The console script pip installed beside this python.
    return [os.path.join(os.path.dirname(sys.executable), "qcow2-conformance")]


@pytest.mark.parametrize(
    "impl, runner, workers, signum, status",
    [
        ("exec", "qcow2-conformance", "2", signal.SIGINT, 130),
        ("exec", "bin/conformance", "0", signal.SIGINT, 130),
        ("reference", "qcow2-conformance", "0", signal.SIGINT, 130),
        # As tox's second step on Ctrl-C, or a CI's cancel, sends it.
        ("exec", "qcow2-conformance", "2", signal.SIGTERM, 143),
    ],
)
def test_an_interrupted_run_exits_130_and_leaves_nothing_running(
    tools, tmp_path, impl, runner, workers, signum, status
):
    token = uuid.uuid4().hex
    marker = tmp_path / "started"
    args = ["--scenario=recording-alone", f"--results={tmp_path / 'r.json'}", "-n", workers]
    if impl == "exec":
        program = tmp_path / "slow.sh"
        program.write_text(SLOW_PROGRAM.format(marker=marker))
        program.chmod(0o755)
        args.append(f"--impl=exec:{program}")
    else:
        folder = tmp_path / "qemu"
        folder.mkdir()
        for real in (tools.qemu_io, tools.qemu_storage_daemon, tools.qemu_nbd):
            if real:
                (folder / os.path.basename(real)).symlink_to(real)
        slow = folder / "qemu-img"
        slow.write_text(SLOW_QEMU_IMG.format(marker=marker, real=tools.qemu_img))
        slow.chmod(0o755)
        # The daemon-less reference, whose first step is qemu-img create.
        args += ["--impl=reference-qemu-img", f"--qemu={folder}"]
    run = start([*conformance_argv(runner), *args], tmp_path, token)
    wait_for(marker.exists, run, "the implementation's start")
    rc, out = interrupt(run, signum)
    assert rc == status, out[-3000:]
    assert processes_with(token) == []


def test_ctrl_c_through_tox_fails_and_leaves_nothing_running(tmp_path):
    """tox waits for the harness to stop (tox.ini's suicide_timeout) and fails: with its own
    1, or with the harness's 130 when the harness had stopped before tox handled the
    interrupt (both seen, docs/exit-statuses.md)."""
    tox, lock = tox_conformance()
    token = uuid.uuid4().hex
    marker = tmp_path / "started"
    program = tmp_path / "slow.sh"
    program.write_text(SLOW_PROGRAM.format(marker=marker))
    program.chmod(0o755)
    args = ["--scenario=recording-alone", f"--results={tmp_path / 'r.json'}", "-n", "0"]
    with locks.held(lock):
        run = start([*tox, *args, f"--impl=exec:{program}"], tmp_path, token)
        wait_for(marker.exists, run, "the implementation's start")
        status, out = interrupt(run)
    assert status in (1, 130), out[-3000:]
    assert "conformance: exit 130" in out, out[-3000:]
    assert processes_with(token) == []


DOMAIN_SCENARIOS = (
    "recording-alone",
    "disabled-alone",
    "inconsistent-recording-alone",
    "inconsistent-disabled-alone",
    "no-bitmaps",
    "names-shell",
)


def test_ctrl_c_during_a_libvirt_run_leaves_no_domain(tools, tmp_path):
    reason = virsh.reachable(tools.host, URI)
    if reason:
        pytest.skip(f"libvirt at {URI} does not answer (bin/libvirt-setup starts it): {reason}")
    token, run_token = uuid.uuid4().hex, uuid.uuid4().hex[:12]
    mine = f"{PREFIX}{run_token}"
    args = [
        *conformance_argv("qcow2-conformance"),
        *("-n", "0", f"--testrunuid={run_token}", "--impl=libvirt-live"),
        f"--results={tmp_path / 'r.json'}",
        # Several, so that a domain is seen alive: one scenario's run ended in 2.4 s, its
        # domain gone before the test looked.
        *(f"--scenario={name}" for name in DOMAIN_SCENARIOS),
    ]
    run = start(args, tmp_path, token)

    def domain_exists():
        return any(d.startswith(mine) for d in virsh.domains(tools.host, URI))

    wait_for(domain_exists, run, "its libvirt domain")
    status, out = interrupt(run)
    assert status == 130, out[-3000:]
    assert processes_with(token) == []
    assert [d for d in virsh.domains(tools.host, URI) if d.startswith(mine)] == []
