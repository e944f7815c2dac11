"""Session clean-up for implementations that start things: libvirt domains.

Every worker sweeps this run's domains when its session ends, and so does
the xdist controller, since a worker killed outright never runs its own.
"""

import pytest

from fixtures.plugin import is_worker, settings
from implementations.libvirt_domain import LibvirtAdapter, sweep


def uses_libvirt(harness):
    return any(isinstance(i, LibvirtAdapter) for i in harness.implementations())


@pytest.fixture(scope="session", autouse=True)
def libvirt_sweep(pytestconfig):
    """Remove any domain this run left, however the session ends."""
    yield
    _sweep(settings(pytestconfig))


def pytest_sessionfinish(session, exitstatus):
    if is_worker(session.config) or not session.config.getoption("numprocesses", None):
        return
    try:
        _sweep(settings(session.config))
    except pytest.exit.Exception:
        pass  # a usage error ended the run before any domain could start


def _sweep(harness):
    if uses_libvirt(harness):
        sweep(harness.tools().host, harness.libvirt_uri, harness.run_token)
