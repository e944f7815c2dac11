"""How many xdist workers `-n auto` (tox.ini's addopts) gives the project's own tests.

A module of its own (tests/conftest.py imports its hook), so a test can import
the same hook into a small pytest session (tests/test_workers.py).
"""

import os

import pytest


# First: a conftest's hook is registered after xdist's, a -p plugin's before it.
@pytest.hookimpl(tryfirst=True)
def pytest_xdist_auto_num_workers(config):
    """Two workers more than the CPUs this process may use.

    Most of these tests wait on what they start (qemu, libvirt, sshd, pip, whole
    conformance runs), so one worker a CPU leaves the CPUs idle part of the time;
    docs/development.md has the figures. PYTEST_XDIST_AUTO_NUM_WORKERS, when set,
    decides instead, as in any xdist session.
    """
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    return len(os.sched_getaffinity(0)) + 2
