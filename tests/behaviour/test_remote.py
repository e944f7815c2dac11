"""Judging where the tools live: a target over ssh, and workers on other machines.

The target is a real sshd on 127.0.0.1 (tests/sshd.py) whose private folder
is a tmpfs that only commands coming in over ssh see. Chains are built
there (--target-dir), so a harness that built, ran or read anything locally
would fail.
"""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from support import FAULTY, ROOT, command_lines, conformance

# A faulty implementation: it trips skip-disabled (and what follows from it).
FAULTY_PROGRAM = os.path.join(FAULTY, "carries_disabled.py")

# Whole-catalog runs judged both locally and over ssh: (arguments, exit status).
RUNS = {
    "reference": (["--impl", "reference"], 0),
    "faulty": (["--impl", f"exec:{FAULTY_PROGRAM}"], 1),
    "commit": (["--procedure", "commit"], 0),
}


def over_ssh(server):
    return [
        "--target-host",
        server.url,
        "--ssh-config",
        server.ssh_config,
        # testinfra's other ssh option; the config names the same key.
        "--ssh-identity-file",
        server.identity_file,
        "--target-dir",
        server.private_dir,
    ]


def outcomes(path):
    """{(implementation, scenario, rule, subject): outcome} of a results file."""
    with open(path) as f:
        records = json.load(f)["results"]
    return {
        (r["implementation"], r["scenario"], r["rule"], r["subject"]): r["outcome"] for r in records
    }


def over_ssh_only(server, command):
    return subprocess.run(
        ["ssh", "-F", server.ssh_config, "sshd-test", command],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


@pytest.fixture(scope="module")
def local_results(tools, tmp_path_factory):
    """Each of RUNS on the whole catalog, judged locally."""
    folder = tmp_path_factory.mktemp("local")
    found = {}
    for name, (args, _) in RUNS.items():
        path = str(folder / f"{name}.json")
        conformance(tools, "-n", "2", *args, "--results", path)
        found[name] = path
    return found


@pytest.mark.parametrize("name", list(RUNS))
def test_verdicts_over_ssh_are_the_local_ones(tools, ssh_server, local_results, tmp_path, name):
    args, status = RUNS[name]
    results = str(tmp_path / "remote.json")
    out = conformance(tools, "-n", "2", *args, "--results", results, *over_ssh(ssh_server))
    assert out.rc == status, out.stdout[-2000:]
    assert outcomes(results) == outcomes(local_results[name])
    with open(results) as f:
        run = json.load(f)["run"]
    assert run["host"] == ssh_server.url and run["host_name"]
    # Everything happened in the folder only ssh sees, and was removed from it.
    assert os.listdir(ssh_server.private_dir) == []
    assert over_ssh_only(ssh_server, f"ls -A {ssh_server.private_dir}") == ""
    assert _left_over_ssh(ssh_server) == {}


def test_two_ssh_workers_give_the_local_results(tools, ssh_server, local_results, tmp_path):
    results = str(tmp_path / "workers.json")
    worker = f"popen//python={ROOT}/bin/ssh-worker {ROOT} -F {ssh_server.ssh_config} sshd-test"
    # pytest's folder in the folder only ssh sees: as on another machine, the
    # workers get a path whose parent does not exist where they run.
    run = os.path.join(ssh_server.private_dir, "run")
    os.mkdir(run)  # here only: pytest needs the parent of --basetemp
    try:
        out = conformance(
            tools,
            "--tx",
            worker,
            "--tx",
            worker,
            "--results",
            results,
            "-v",
            f"--basetemp={run}/base",
        )
    finally:
        shutil.rmtree(run, ignore_errors=True)
        over_ssh_only(ssh_server, f"rm -rf {run}")
    assert out.rc == 0, out.stdout[-2000:]
    # Both workers are ssh ones: a pytest option must not have replaced them.
    assert "[gw0]" in out.stdout and "[gw1]" in out.stdout and "[gw2]" not in out.stdout
    assert _without_hosts(results) == _without_hosts(local_results["reference"])


def test_a_lost_connection_errors_the_cut_run_names_the_host_and_leaves_nothing(
    tools, ssh_server, tmp_path
):
    hangs = os.path.join(FAULTY, "hangs.sh")
    sentinel = os.path.join(ssh_server.private_dir, "local-file")
    with open(sentinel, "w") as f:
        f.write("this machine's, where ssh does not look\n")
    results = str(tmp_path / "lost.json")
    argv = [sys.executable, "-m", "qcow2_conformance", "-n", "0", "--impl", f"exec:{hangs}"]
    argv += ["--scenario", "chain-depth-1", "--results", results, *over_ssh(ssh_server)]
    run = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _wait_for(lambda: any("sleep 3601" in c for c in ssh_server.processes().values()))
        ssh_server.kill_sessions()
        output = run.communicate(timeout=120)[0].decode()
    finally:
        run.kill()
        run.wait()
    assert run.returncode == 1, output[-3000:]
    with open(results) as f:
        records = json.load(f)["results"]
    lost = f"lost the connection to {ssh_server.url}"
    assert {r["outcome"] for r in records} == {"error"}
    assert all(lost in r["message"] for r in records if r["rule"] == "completes")
    with open(sentinel) as f:
        assert f.read().startswith("this machine's")
    os.remove(sentinel)
    # The agent on the target killed what it started once its connection was gone.
    _wait_for(lambda: _left_over_ssh(ssh_server) == {})
    # The harness connected again for its last command, which removed its folder.
    assert over_ssh_only(ssh_server, f"ls -A {ssh_server.private_dir}") == ""
    assert not [p for p in command_lines().values() if f"Port={ssh_server.port}" in p]


def _without_hosts(path):
    with open(path) as f:
        document = json.load(f)
    records = [{k: v for k, v in r.items() if k != "host"} for r in document["results"]]
    return sorted(json.dumps(r, sort_keys=True) for r in records), document["scenarios"]


def _left_over_ssh(server):
    """Processes of the server other than sshd itself (its listener and sessions)."""
    return {
        pid: line
        for pid, line in server.processes().items()
        if not line.startswith(("sshd", "/usr/sbin/sshd"))
    }


def _wait_for(condition, timeout=60):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.1)


def test_programs_and_qemu_are_the_targets(tools, ssh_server, tmp_path):
    """exec:PATH and --qemu DIR name files on the target, which this machine cannot see."""
    private = ssh_server.private_dir
    over_ssh_only(
        ssh_server,
        f"mkdir {private}/qemu && ln -s {tools.qemu_img} {tools.qemu_io} {tools.qemu_nbd}"
        f" {tools.qemu_storage_daemon} {private}/qemu/ && printf '%s\\n' '#!/bin/sh'"
        f" 'exec {ROOT}/bin/qcow2-snapshot \"$@\"' > {private}/snap && chmod +x {private}/snap",
    )
    results = str(tmp_path / "r.json")
    try:
        out = conformance(
            tools,
            *("-n", "0", "--impl", f"exec:{private}/snap", "--qemu", f"{private}/qemu"),
            *("--scenario", "chain-depth-1", "--results", results, *over_ssh(ssh_server)),
        )
        assert out.rc == 0, out.stdout[-2000:]
        with open(results) as f:
            assert json.load(f)["run"]["qemu_img"] == f"{private}/qemu/qemu-img"
        # Here, the same path is nothing: bad input, named with its host.
        here = conformance(tools, "--impl", f"exec:{private}/snap", "--scenario", "chain-depth-1")
        assert here.rc == 2
        assert f"{private}/snap does not exist;" in here.stdout + here.stderr
        # And a program missing on the target is bad input that names the target.
        gone = conformance(tools, "--impl", f"exec:{private}/gone", *over_ssh(ssh_server))
        assert gone.rc == 2
        assert f"{private}/gone does not exist on {ssh_server.url}" in gone.stdout + gone.stderr
    finally:
        over_ssh_only(ssh_server, f"rm -rf {private}/qemu {private}/snap")


def test_keep_leaves_the_run_folder_on_the_target(tools, ssh_server, tmp_path):
    out = conformance(
        tools,
        *("-n", "0", "--scenario", "chain-depth-1", "--keep"),
        *("--results", str(tmp_path / "r.json"), *over_ssh(ssh_server)),
    )
    assert out.rc == 0, out.stdout[-2000:]
    kept = over_ssh_only(ssh_server, f"ls -A {ssh_server.private_dir}").split()
    try:
        assert len(kept) == 1 and kept[0].startswith("qcow2-harness.")
        said = f"kept the target folder {ssh_server.private_dir}/{kept[0]} on {ssh_server.url}"
        assert said in out.stderr
        assert "chains" in over_ssh_only(ssh_server, f"ls {ssh_server.private_dir}/{kept[0]}")
    finally:
        over_ssh_only(ssh_server, f"rm -rf {ssh_server.private_dir}/qcow2-harness.*")


def test_a_qemu_release_is_fetched_on_the_target(tools, ssh_server, tmp_path):
    results = str(tmp_path / "r.json")
    out = conformance(
        tools,
        *("-n", "0", "--qemu", "5.2", "--scenario", "chain-depth-1"),
        *("--results", results, *over_ssh(ssh_server)),
    )
    assert out.rc == 0, out.stdout[-2000:] + out.stderr[-2000:]
    with open(results) as f:
        run = json.load(f)["run"]
    # The sshd of tests/sshd.py gives its sessions a cache folder of its own.
    cache = os.path.join(os.path.dirname(ssh_server.identity_file), "cache")
    assert run["qemu_img"] == f"{cache}/qcow2-harness/qemu/qemu-5.2/bin/qemu-img"
    assert run["qemu_version"].startswith("qemu-img version 5.2")
