"""The libvirt adapters against a real libvirtd: the whole catalog, and cleanup.

bin/selftest starts virtlogd and libvirtd first (bin/libvirt-setup); where
libvirt cannot be reached these tests skip and say what to start.
"""

import os
import uuid

import pytest

from implementations.libvirt_domain import PREFIX, domain_name, domain_xml, sweep
from implementations.registry import resolve
from scenarios import load_catalog
from tools import virsh

from support import FAULTY, conformance

URI = "qemu:///system"
ADAPTERS = ("libvirt-live", "libvirt-offline")


@pytest.fixture(scope="session")
def libvirt(tools):
    problem = virsh.reachable(tools.host, URI)
    if problem:
        pytest.skip(
            f"libvirt is not reachable at {URI} ({problem}); start virtlogd -d and"
            " libvirtd -d, or run bin/libvirt-setup"
        )
    return URI


@pytest.fixture
def token(testrun_uid, worker_id):
    """Names this worker's domains; unique per run, so two runs may share a libvirtd."""
    return f"{testrun_uid[:8]}-{worker_id}"


def our_domains(tools, token):
    return [d for d in virsh.domains(tools.host, URI) if d.startswith(f"{PREFIX}{token}-")]


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("scenario", load_catalog(), ids=lambda s: s.name)
def test_adapter_runs_the_scenario_and_removes_its_domain(
    adapter, scenario, libvirt, pipeline, tools, token
):
    impl = resolve(adapter, libvirt_uri=libvirt, run_token=token)
    verdicts = pipeline.verdicts(impl, scenario)
    assert verdicts[("completes", "")].outcome == "passed", verdicts[("completes", "")].message
    errors = {k: v.message for k, v in verdicts.items() if v.outcome == "error"}
    assert errors == {}
    assert our_domains(tools, token) == []


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_failed_snapshot_still_removes_the_domain(
    adapter, libvirt, tools, chain_cache, tmp_path, token
):
    impl = resolve(adapter, libvirt_uri=libvirt, run_token=token)
    built = chain_cache.copy(load_catalog()[0], str(tmp_path / "chain"))
    run = impl.run(
        tools,
        built.active,
        str(tmp_path / "no" / "such" / "folder" / "o.qcow2"),
        cwd=built.folder,
        timeout=60,
    )
    assert run.exit_status != 0 and not run.overlay_exists
    assert our_domains(tools, token) == []


def test_an_unreachable_libvirt_is_a_skip_that_says_what_to_start(tools):
    impl = resolve("libvirt-live", libvirt_uri="qemu:///system?socket=/nonexistent/sock")
    reason = impl.unavailable(tools)
    assert "libvirt is not reachable" in reason and "libvirtd -d" in reason


def test_the_controller_sweeps_the_domains_of_a_worker_that_died(
    libvirt, tools, chain_cache, tmp_path
):
    run_token = uuid.uuid4().hex[:12]
    # A domain as the dead worker would have left it: named with the run's token.
    built = chain_cache.copy(load_catalog()[0], str(tmp_path / "chain"))
    xml = tmp_path / "left.xml"
    xml.write_text(domain_xml(domain_name(run_token), built.active, "qcow2"))
    virsh.create(tools.host, libvirt, str(xml), timeout=120)
    killer = os.path.join(FAULTY, "kills_worker.py")
    try:
        # One worker, which the killer kills: only the controller is left to sweep.
        out = conformance(
            tools,
            "-n",
            "1",
            f"--testrunuid={run_token}",
            "--max-worker-restart=0",
            f"--results={tmp_path / 'r.json'}",
            f"--impl=exec:{killer}",
            "--impl=libvirt-live",
            "--scenario=recording-alone",
        )
        assert out.rc != 0
        assert our_domains(tools, run_token) == []
    finally:
        sweep(tools.host, libvirt, run_token)
