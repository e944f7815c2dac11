"""Session clean-up for what implementations leave: libvirt domains, exec: folders.

Every worker sweeps this run's domains when its session ends, and so does
the xdist controller, since a worker killed outright never runs its own.
The HOME and TMPDIR folders of exec: programs are swept by the controller
(or the only process) alone: other workers may still be running programs.
"""

import pytest

from fixtures.plugin import is_worker, settings
from implementations import external
from implementations.libvirt_domain import LibvirtAdapter, sweep


def uses_libvirt(harness):
    return any(isinstance(i, LibvirtAdapter) for i in harness.implementations())


@pytest.fixture(scope="session", autouse=True)
def libvirt_sweep(pytestconfig):
    """Remove any domain and exec: HOME/TMPDIR folder this run left, however it ends."""
    yield
    _sweep(settings(pytestconfig), folders=not is_worker(pytestconfig))


def pytest_sessionfinish(session, exitstatus):
    if is_worker(session.config) or not session.config.getoption("numprocesses", None):
        return
    try:
        _sweep(settings(session.config))
    except pytest.exit.Exception:
        pass  # a usage error ended the run before any domain could start


def _sweep(harness, folders=True):
    if uses_libvirt(harness):
        sweep(harness.tools().host, harness.libvirt_uri, harness.run_token)
    if folders and any(isinstance(i, external.ExternalProgram) for i in harness.implementations()):
        external.sweep(harness.tools().host, harness.run_token)
