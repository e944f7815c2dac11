"""tools/locks.py between real processes: one holds, the others wait, a death lets go."""

import subprocess
import sys

import pytest

from qcow2_conformance.tools import locks

from support import ROOT

# Takes the lock, says so on stdout, and holds it until its stdin closes.
HOLDER = """
import sys
from qcow2_conformance.tools import locks
with locks.held(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.read()
print("let go", flush=True)
"""


@pytest.fixture
def started():
    """start(path): a process that holds path's lock once it has printed 'held'."""
    procs = []

    def start(path):
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", HOLDER, str(path)],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        )
        return procs[-1]

    yield start
    for proc in procs:
        proc.kill()
        proc.wait()


def test_a_second_process_waits_until_the_first_lets_go(tmp_path, started):
    path = tmp_path / "x.lock"
    first = started(path)
    assert first.stdout.readline() == "held\n"
    second = started(path)
    assert locks.is_held(path)
    first.stdin.close()
    assert first.stdout.readline() == "let go\n"
    # The second took it when the first let go; it cannot have had it before.
    assert second.stdout.readline() == "held\n"
    assert locks.is_held(path)
    second.stdin.close()
    assert second.stdout.readline() == "let go\n"
    assert not locks.is_held(path)


def test_a_killed_holder_lets_go(tmp_path, started):
    path = tmp_path / "x.lock"
    first = started(path)
    assert first.stdout.readline() == "held\n"
    first.kill()
    first.wait()
    assert not locks.is_held(path)
    with locks.held(path):
        assert locks.is_held(path)
