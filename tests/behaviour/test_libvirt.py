"""The libvirt adapters against a real libvirtd: the whole catalog, and cleanup.

bin/selftest starts virtlogd and libvirtd first (bin/libvirt-setup); where
libvirt cannot be reached these tests skip and say what to start.
"""

import contextlib
import json
import os
import re
import shutil
import uuid

import pytest

from qcow2_conformance.implementations.libvirt_domain import PREFIX, domain_name, domain_xml, sweep
from qcow2_conformance.implementations.registry import resolve
from qcow2_conformance.procedures import PROCEDURES
from qcow2_conformance.scenarios import load_catalog
from qcow2_conformance.scenarios.model import COMMIT, RECORDING, SNAPSHOT, Bitmap, Image, Scenario
from qcow2_conformance.tools import command, qemu_img, virsh

from support import FAULTY, ROOT, conformance

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
@pytest.mark.parametrize(
    "scenario", [s for s in load_catalog() if s.procedure == SNAPSHOT], ids=lambda s: s.name
)
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
    overlay = tmp_path / "no" / "such" / "folder" / "o.qcow2"
    run = impl.snapshot(tools, built.active, str(overlay), cwd=built.folder, timeout=60)
    assert run.exit_status != 0 and not overlay.exists()
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


def _image(*names, size=None, dirty=0):
    bitmaps = tuple(Bitmap(n, RECORDING, None, ((dirty << 20, 65536),)) for n in names)
    return Image("qcow2", size, None, ((dirty << 20, 4096),), bitmaps)


# layer0 <- layer1 <- layer2 <- active, a checkpoint through all of them and one
# that starts in layer2.
FOUR = Scenario(
    "libvirt-commit-four",
    "commit-test",
    "a checkpoint in every image, one more from layer2 up",
    (
        _image("cp1", size=8 << 20, dirty=0),
        _image("cp1", dirty=1),
        _image("cp1", "cp2", dirty=2),
        _image("cp1", "cp2", dirty=3),
    ),
    __file__,
)
# (COMMIT_TOP, COMMIT_BASE, ABOVE) as indexes into FOUR's images.
COMMITS = {"active": (3, 1, None), "intermediate": (2, 0, 3)}


@pytest.mark.parametrize("kind", COMMITS)
def test_live_blockcommit_commits_and_removes_its_domain(
    kind, libvirt, tools, chain_cache, tmp_path, token
):
    top, base, above = COMMITS[kind]
    impl = resolve("libvirt-live", libvirt_uri=libvirt, run_token=token)
    assert PROCEDURES[COMMIT].unavailable(impl, tools) is None
    built = chain_cache.copy(FOUR, str(tmp_path / "chain"))
    paths = built.paths
    run = impl.commit(
        tools,
        paths[top],
        paths[base],
        None if above is None else paths[above],
        cwd=built.folder,
        timeout=120,
    )
    assert run.exit_status == 0, run.output
    assert our_domains(tools, token) == []
    new_top = built.paths[base if above is None else above]
    old_top = chain_cache.pristine(FOUR).paths[top if above is None else above]
    same, said = qemu_img.compare(tools, new_top, old_top)
    assert same, said
    if above is not None:
        backing = qemu_img.info(tools, built.paths[above])["full-backing-filename"]
        assert os.path.realpath(backing) == built.paths[base]


def test_a_failed_blockcommit_still_removes_the_domain(
    libvirt, tools, chain_cache, tmp_path, token
):
    impl = resolve("libvirt-live", libvirt_uri=libvirt, run_token=token)
    built = chain_cache.copy(FOUR, str(tmp_path / "chain"))
    # ABOVE's own path as COMMIT_BASE: not below COMMIT_TOP, so libvirt refuses.
    paths = built.paths
    run = impl.commit(tools, paths[2], paths[3], paths[3], cwd=built.folder, timeout=120)
    assert run.exit_status != 0
    assert our_domains(tools, token) == []


def test_libvirt_offline_skips_commit_and_says_why(tools):
    impl = resolve("libvirt-offline")
    reason = PROCEDURES[COMMIT].unavailable(impl, tools)
    assert reason.startswith(
        "libvirt-offline: does not run the commit procedure:"
        " libvirt refuses a commit on a shut-off domain"
    )


# The form of virsh version --daemon when the client and the daemon differ:
# the host's virsh 9.0 against a libvirt 11.3 in a container (docs/libvirt.md).
CLIENT_AND_DAEMON = """\
Compiled against library: libvirt 9.0.0
Using library: libvirt 9.0.0
Using API: QEMU 9.0.0
Running hypervisor: QEMU 10.0.13
Running against daemon: 11.3.0
"""


def test_the_versions_are_the_daemons_and_the_hypervisors_not_the_clients():
    found = virsh.parse_versions(CLIENT_AND_DAEMON)
    assert (found["Running against daemon"], found["Running hypervisor"]) == (
        "11.3.0",
        "QEMU 10.0.13",
    )
    assert found["Using library"] == "libvirt 9.0.0"


def release_of(tools, program):
    """The first x.y.z that program --version prints."""
    out = command.run(tools.host, [program, "--version"])
    return re.search(r"\d+\.\d+\.\d+", out.stdout).group(0)


def test_the_results_name_the_daemons_libvirt_and_the_hypervisors_qemu(libvirt, tools, tmp_path):
    binaries = [shutil.which(name) for name in ("libvirtd", "qemu-system-x86_64")]
    if not all(binaries):
        pytest.skip("libvirtd or qemu-system-x86_64 is not on PATH: nothing to compare with")
    daemon, qemu = (release_of(tools, b) for b in binaries)
    assert (
        virsh.daemon_version(tools.host, libvirt),
        virsh.hypervisor_version(tools.host, libvirt),
    ) == (
        daemon,
        f"QEMU {qemu}",
    )
    results = tmp_path / "r.json"
    out = conformance(
        tools,
        "--impl=libvirt-offline",
        "--scenario=recording-alone",
        "-n",
        "0",
        f"--results={results}",
    )
    # libvirt's own verdicts do not matter here: a run that judged something.
    assert out.rc in (0, 1), out.stdout[-2000:]
    run = json.loads(results.read_text())["run"]
    assert run["libvirt_version"] == f"libvirt {daemon} (daemon), QEMU {qemu} (hypervisor)"


def container_recipe():
    """The commands of docs/libvirt.md's container section, as one bash script."""
    with open(os.path.join(ROOT, "docs", "libvirt.md"), encoding="utf-8") as f:
        text = f.read()
    section = text.split("## Another libvirt release, in a container", 1)[1]
    section = section.split("\n## ", 1)[0]
    blocks = re.findall(r"(?:^    .*\n)+", section, re.MULTILINE)
    return "".join("".join(line[4:] + "\n" for line in block.splitlines()) for block in blocks)


def test_the_container_recipe_judges_another_libvirt(tools):
    if os.environ.get("HARNESS_LIBVIRT_CONTAINER") != "1":
        pytest.skip(
            "set HARNESS_LIBVIRT_CONTAINER=1 to run docs/libvirt.md's container recipe"
            " (minutes; needs root, podman and deb.debian.org)"
        )
    results = os.path.join(ROOT, "conformance-out", "libvirt-trixie.json")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(results)
    try:
        out = command.run(
            tools.host,
            # Not -e: the conformance run's own status (1 when libvirt fails a rule)
            # must not keep the last lines, which remove the container, from running.
            ["bash", "-uo", "pipefail", "-c", container_recipe()],
            cwd=ROOT,
            check=False,
            timeout=3600,
        )
    finally:
        command.run(tools.host, ["podman", "rm", "-f", "libvirt-trixie"], check=False)
    assert "Running against daemon: 11.3" in out.stdout, out.stdout[-3000:] + out.stderr[-3000:]
    assert out.rc == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert not os.path.exists("/tmp/libvirt-trixie-run")
    run = json.loads(open(results, encoding="utf-8").read())["run"]
    assert run["libvirt_version"].startswith("libvirt 11.3"), run["libvirt_version"]
    assert "QEMU 10.0" in run["libvirt_version"]
