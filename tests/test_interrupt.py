"""Ctrl-C in the middle of a run leaves no qemu process and no libvirt domain behind."""

import os
import signal
import subprocess
import sys
import time
import uuid

from qcow2_conformance.implementations.libvirt_domain import PREFIX
from qcow2_conformance.tools import virsh

from support import command_lines

URI = "qemu:///system"


def qemu_processes(marker):
    """Pid and command line of each qemu process whose command line mentions marker."""
    return [
        f"{pid} {line[:300]}"
        for pid, line in command_lines().items()
        if "qemu" in line and marker in line
    ]


def test_ctrl_c_leaves_nothing_running(tools, tmp_path):
    impl = "libvirt-live" if virsh.reachable(tools.host, URI) is None else "reference"
    # The run's token names its domains, so other tests' domains do not count.
    token = uuid.uuid4().hex[:12]
    basetemp = tmp_path / "run"
    argv = [
        sys.executable,
        "-m",
        "qcow2_conformance",
        "-q",
        "-n",
        "2",
        f"--testrunuid={token}",
        f"--impl={impl}",
        f"--basetemp={basetemp}",
        f"--results={tmp_path / 'r.json'}",
    ]
    # As a terminal does: its own process group, SIGINT at its default.
    run = subprocess.Popen(
        argv,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    time.sleep(8)
    os.killpg(run.pid, signal.SIGINT)
    try:
        run.wait(timeout=90)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    assert run.returncode == 2  # pytest's exit status for an interrupted run
    time.sleep(1)
    assert qemu_processes(str(basetemp)) == []
    if impl == "libvirt-live":
        assert [d for d in virsh.domains(tools.host, URI) if d.startswith(PREFIX + token)] == []
