"""bin/qcow2-snapshot and bin/qcow2-commit end to end on a real chain, and their bootstrap's stamp.

The command runs from a copy of the checkout's bin/ and pyproject.toml, so
the test can change them without touching the checkout. The copy's .venv
forwards python to this interpreter; its pip, and the system python3 in
front of the real one on PATH, only log their calls (and `python3 -m venv`
does nothing), so a redone venv shows in the log instead of downloading.
"""

import os
import shutil
import subprocess
import sys

import pytest

from qcow2_conformance.implementations import reference
from qcow2_conformance.tools import command, qemu_img

from support import ROOT


def script(path, text):
    path.write_text(text)
    path.chmod(0o755)


@pytest.fixture
def copy(tmp_path):
    root = tmp_path / "checkout"
    (root / "bin").mkdir(parents=True)
    for name in ("bin/bootstrap.sh", "bin/qcow2-snapshot", "bin/qcow2-commit", "pyproject.toml"):
        shutil.copy2(os.path.join(ROOT, name), root / name)
    venv = root / ".venv" / "bin"
    venv.mkdir(parents=True)
    log = tmp_path / "calls"
    log.touch()
    script(venv / "python", f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    for command_name in ("qcow2-snapshot", "qcow2-commit"):
        script(
            venv / command_name,
            f'#!/bin/sh\nexec {os.path.dirname(sys.executable)}/{command_name} "$@"\n',
        )
    script(venv / "pip", f'#!/bin/sh\necho "pip $*" >> {log}\n')
    script(venv / "tox", "#!/bin/sh\nexit 0\n")
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    real = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin")
    script(
        stubs / "python3",
        f'#!/bin/sh\necho "python3 $*" >> {log}\n'
        f'[ "$1 $2" = "-m venv" ] && exit 0\nexec {real} "$@"\n',
    )
    return root, stubs, log


def snapshot(tools, copy, active, overlay, cwd):
    """Run the copy's bin/qcow2-snapshot; return the calls its bootstrap made."""
    root, stubs, log = copy
    log.write_text("")
    path = f"{stubs}:{tools.bindir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    out = command.run(
        tools.host,
        [str(root / "bin" / "qcow2-snapshot"), active, overlay],
        env={"PATH": path, "QEMU_IMG": tools.qemu_img},
        cwd=str(cwd),
    )
    assert out.stdout.endswith("3 bitmaps carried\n")
    return log.read_text().splitlines()


@pytest.fixture
def built(tools, chain_cache, catalog, tmp_path):
    return chain_cache.copy(catalog["mixed-interleaved"], str(tmp_path / "chain"))


def test_carries_the_bitmaps_of_a_real_chain(tools, copy, built, tmp_path):
    # Relative paths: the bootstrap changes folder, the command must not.
    snapshot(tools, copy, os.path.relpath(built.active, tmp_path), "overlay.qcow2", tmp_path)
    overlay = str(tmp_path / "overlay.qcow2")
    info = qemu_img.info(tools, overlay)
    assert info["backing-filename"] == built.active
    assert sorted(reference.carried_bitmaps(info)) == sorted(
        reference.carried_bitmaps(qemu_img.info(tools, built.active))
    )


def test_commit_folds_a_snapshot_back(tools, copy, built, tmp_path):
    root, stubs, _ = copy
    snapshot(tools, copy, built.active, "overlay.qcow2", built.folder)
    path = f"{stubs}:{tools.bindir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/bin"
    out = command.run(
        tools.host,
        [str(root / "bin" / "qcow2-commit"), "overlay.qcow2", os.path.basename(built.active)],
        env={"PATH": path, "QEMU_IMG": tools.qemu_img},
        cwd=built.folder,
    )
    assert out.stdout == "active.qcow2: overlay.qcow2 committed into it, 3 bitmaps carried\n"
    assert sorted(reference.carried_bitmaps(qemu_img.info(tools, built.active))) == sorted(
        reference.carried_bitmaps(qemu_img.info(tools, f"{built.folder}/overlay.qcow2"))
    )


PROBE = "python3 -c import ensurepip, venv"


@pytest.mark.parametrize(
    "changed, redoes_venv",
    [("pyproject.toml", True), ("bin/bootstrap.sh", False)],
    ids=["requirements", "bootstrap"],
)
def test_full_bootstrap_only_when_its_stamp_is_stale(
    tools, copy, built, tmp_path, changed, redoes_venv
):
    def run(name):
        return snapshot(tools, copy, built.active, str(tmp_path / name), tmp_path)

    fresh = run("first.qcow2")
    assert PROBE in fresh
    assert f"pip install -q --disable-pip-version-check tox -e {copy[0]}[generate]" in fresh
    # A current stamp: no python3 starts before the snapshot's own.
    assert run("second.qcow2") == []
    with open(copy[0] / changed, "a") as f:
        f.write("# changed\n")
    stale = run("third.qcow2")
    assert PROBE in stale
    assert any(c.startswith("pip install") for c in stale) == redoes_venv
    assert run("fourth.qcow2") == []


def test_bin_bootstrap_readies_a_worker_machine():
    # What a machine that runs bin/ssh-worker workers needs, and nothing more.
    out = subprocess.run(
        [os.path.join(ROOT, "bin", "bootstrap")], capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"harness: ready in {ROOT}\n"
    assert os.access(os.path.join(ROOT, ".venv", "bin", "python"), os.X_OK)
