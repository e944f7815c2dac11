"""Fixtures shared by the harness's own tests."""

import pytest

from qcow2_conformance.fixtures.session import settings
from qcow2_conformance.rules import load_rules

import sshd
from workers import pytest_xdist_auto_num_workers  # noqa: F401  (a hook: -n auto's count)


@pytest.fixture(scope="session")
def rule_ids():
    return list(load_rules())


@pytest.fixture(scope="session")
def catalog(pytestconfig):
    # Every procedure's scenarios: a test names the one it runs.
    return {s.name: s for s in settings(pytestconfig).catalog()}


@pytest.fixture(scope="session")
def ssh_server(tmp_path_factory):
    """A real sshd on 127.0.0.1 (tests/sshd.py), stopped at the end.

    One per xdist worker, each on a port of its own.
    """
    reason = sshd.missing()
    if reason:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("sshd")
    server = sshd.start(folder / "server", folder / "private")
    yield server
    server.stop()
