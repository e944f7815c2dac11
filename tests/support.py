"""Helpers the harness's own tests share (fixtures live in tests/conftest.py)."""

import contextlib
import os
import subprocess
import sys
import tempfile
import time

import pytest

from qcow2_conformance.implementations.external import ExternalProgram
from qcow2_conformance.tools import command, cpus

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAULTY = os.path.join(ROOT, "tests", "faulty")


def conformance(tools, *args, on_cpus=None, cwd=None):
    """Run the conformance suite as a user would: the qcow2-conformance command, in cwd
    (default: a fresh folder, removed afterwards, so the default conformance-out/ lands
    there), on_cpus (a set of CPUs; default: every CPU the user has, not only the one
    this test's worker is pinned to)."""
    argv = [sys.executable, "-m", "qcow2_conformance", *args]
    given = on_cpus or cpus.unpinned()
    with contextlib.ExitStack() as stack:
        if cwd is None:
            cwd = stack.enter_context(tempfile.TemporaryDirectory(prefix="conformance-run-"))
        return command.run(tools.host, argv, cwd=cwd, check=False, timeout=600, cpus=given)


def machine_cpus():
    """The CPUs this test session may use, whatever worker this test runs on."""
    return cpus.unpinned() or os.sched_getaffinity(0)


def cpu_list(text):
    """The CPUs of a list as /proc/PID/status gives it: '0-2,5' -> {0, 1, 2, 5}."""
    found = set()
    for part in text.split(","):
        first, _, last = part.partition("-")
        found.update(range(int(first), int(last or first) + 1))
    return found


def faulty(program):
    """The faulty implementation tests/faulty/PROGRAM, run as exec:PATH."""
    return ExternalProgram(os.path.join(FAULTY, program))


def failed_rules(verdicts, outcome="failed"):
    """The rule ids with at least one verdict of outcome."""
    return {rule for (rule, _), v in verdicts.items() if v.outcome == outcome}


def qemu_folder(
    tools, folder, *, qemu_img=None, keep=("qemu-io", "qemu-storage-daemon", "qemu-nbd")
):
    """A folder of qemu binaries: the real ones named in keep, linked, and qemu-img.

    qemu_img is the text of a script to stand in for qemu-img, where '@REAL@'
    is replaced by the real qemu-img's path; None links the real one.
    Returns the path of the folder's qemu-img.
    """
    folder.mkdir()
    for real in (tools.qemu_io, tools.qemu_storage_daemon, tools.qemu_nbd):
        if real and os.path.basename(real) in keep:
            (folder / os.path.basename(real)).symlink_to(real)
    target = folder / "qemu-img"
    if qemu_img is None:
        target.symlink_to(tools.qemu_img)
    else:
        target.write_text(qemu_img.replace("@REAL@", tools.qemu_img))
        target.chmod(0o755)
    return str(target)


def record(impl, rule, outcome, family="snapshot", scenario="s1", subject="", message=""):
    """One record of a results file, made by hand for the reports' tests."""
    return {
        "implementation": impl,
        "scenario": scenario,
        "rule": rule,
        "subject": subject,
        "family": family,
        "outcome": outcome,
        "message": message,
    }


def trips_exactly(pipeline, program, scenario, rules):
    """Run tests/faulty/PROGRAM on scenario: it fails exactly rules, and nothing errors."""
    verdicts = pipeline.verdicts(faulty(program), scenario)
    messages = {k: v.message for k, v in verdicts.items() if v.outcome in ("failed", "error")}
    assert failed_rules(verdicts) == rules, messages
    assert failed_rules(verdicts, "error") == set(), messages


def catalog_error(path):
    """The message of the CatalogError a scenario file raises, checked to be one line."""
    from qcow2_conformance.scenarios import CatalogError, load_file

    try:
        load_file(path)
    except CatalogError as e:
        message = str(e)
    else:
        raise AssertionError(f"{path}: loaded without an error")
    assert "\n" not in message
    return message


def command_lines():
    """{pid: command line, its arguments joined by spaces} of every process now running."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                found[pid] = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
    return found


def tox_conformance():
    """tox -e conformance's command line up to "--", and the lock that lets one test
    at a time run it (two would install into .tox/conformance at once)."""
    tox = os.path.join(os.path.dirname(sys.executable), "tox")
    if not os.path.exists(tox):
        pytest.skip(f"no tox beside {sys.executable}: pip install tox")
    os.makedirs(os.path.join(ROOT, ".tox"), exist_ok=True)
    lock = os.path.join(ROOT, ".tox", "harness-tests.lock")
    return [tox, "-c", os.path.join(ROOT, "tox.ini"), "-e", "conformance", "--"], lock


def processes_with(token):
    """'PID COMMAND LINE' of every live process whose environment holds token."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if token.encode() not in f.read():
                    continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                line = f.read().replace(b"\0", b" ").decode(errors="replace")
            found.append(f"{pid} {line}")
        except OSError:
            continue  # gone meanwhile, or a zombie: nothing left running
    return found


def start_python(program, token):
    """python running program, with token in its environment (processes_with finds
    what it starts); its stdin and stdout are pipes."""
    return subprocess.Popen(
        [sys.executable, "-c", program],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "HARNESS_TEST_TOKEN": token},
    )


def killed_leaves(child, token, settle=5):
    """SIGKILL child, then what still carries token once settle seconds passed, or
    sooner when nothing does."""
    child.kill()
    child.wait()
    deadline = time.monotonic() + settle
    while processes_with(token) and time.monotonic() < deadline:
        time.sleep(0.05)
    return processes_with(token)
