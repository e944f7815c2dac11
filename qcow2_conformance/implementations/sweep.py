"""Session clean-up for what implementations leave: libvirt domains, exec: folders.

Each run removes its own domain and folder in a finally. What a run could
not remove (its worker was killed, or interrupted at the wrong moment) is
swept when the session ends, by the xdist controller or the only process,
never by a worker: a worker that finishes early would sweep what the others
still use.
"""

import pytest

from qcow2_conformance.fixtures.session import is_active, is_worker, settings
from qcow2_conformance.implementations import external
from qcow2_conformance.implementations.libvirt_domain import LibvirtAdapter, sweep


def uses_libvirt(harness):
    return any(isinstance(i, LibvirtAdapter) for i in harness.implementations())


def pytest_sessionfinish(session, exitstatus):
    if is_worker(session.config) or not is_active(session.config):
        return
    try:
        harness = settings(session.config)
        if uses_libvirt(harness):
            sweep(harness.tools().host, harness.libvirt_uri, harness.run_token)
        if any(isinstance(i, external.ExternalProgram) for i in harness.implementations()):
            external.sweep(harness.tools().host, harness.run_token)
    except pytest.exit.Exception:
        pass  # a usage error ended the run before anything could start
