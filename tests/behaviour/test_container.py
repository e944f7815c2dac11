"""The container image (Containerfile, bin/build-image): built, then run as docs/container.md says.

Skipped where podman cannot run. The first session on a machine builds the
Debian base and the image; later ones keep both while the Containerfile and
the wheels are the same.
"""

import json
import os
import re
import shutil

import pytest

from qcow2_conformance.tools import command

import wheels
from container import BASE, LIMITS, TAG, image, missing, podman
from faulty_programs import JUDGED
from support import FAULTY, ROOT

REPORTS = ("results.json", "results.junit.xml", "report.html", "summary.md")


@pytest.fixture(scope="session")
def built(tools, session_folder):
    reason = missing(tools.host)
    if reason:
        pytest.skip(reason)
    return image(tools.host, session_folder, wheels.wheelhouse(tools.host, session_folder))


def doc_command(name):
    """The one sh block of docs/NAME, as one line."""
    with open(os.path.join(ROOT, "docs", name), encoding="utf-8") as f:
        blocks = re.findall(r"^```sh\n(.*?)^```$", f.read(), re.M | re.S)
    return blocks


def copy_tool(folder, program):
    (folder / "bin").mkdir(parents=True)
    shutil.copy(os.path.join(FAULTY, program), folder / "bin" / "my-snapshot")
    shutil.copy(os.path.join(FAULTY, "recipe.py"), folder / "bin" / "recipe.py")


@pytest.mark.parametrize("impl, scenario, status", JUDGED)
def test_the_image_judges_a_mounted_tool(tools, built, tmp_path, impl, scenario, status):
    (run_line,) = [b for b in doc_command("container.md") if " run " in b]
    line = run_line.strip().replace("localhost/qcow2-conformance:latest", built[0])
    if impl == "reference":
        line = line.replace("exec:bin/my-snapshot", "reference")
    else:
        copy_tool(tmp_path, impl)
    out = command.run(
        tools.host,
        ["bash", "-e", "-c", f"{line} --scenario={scenario} -n 0"],
        cwd=tmp_path,
        check=False,
        timeout=600,
    )
    assert out.rc == status, out.stdout[-3000:] + out.stderr[-3000:]
    assert sorted(os.listdir(tmp_path / "conformance-out")) == sorted(REPORTS)
    doc = json.loads((tmp_path / "conformance-out" / "results.json").read_text())
    spec = "reference" if impl == "reference" else "exec:bin/my-snapshot"
    assert {r["implementation"] for r in doc["results"]} == {spec}
    assert {r["scenario"] for r in doc["results"]} == {scenario}


def test_the_image_holds_debian_12_its_qemu_and_the_command(tools, built):
    probe = (
        "cat /etc/debian_version; for t in qemu-img qemu-io qemu-storage-daemon;"
        " do command -v $t; done; pwd;"
        " df -t tmpfs /tmp >/dev/null && echo tmpfs"
    )
    out = command.run(
        tools.host,
        podman(
            "run", "--rm", *LIMITS, "--tmpfs", "/tmp", "--entrypoint", "sh", built[0], "-c", probe
        ),
    )
    version, *found, folder, tmp = out.stdout.split()
    assert version.startswith("12.")
    assert [os.path.basename(p) for p in found] == ["qemu-img", "qemu-io", "qemu-storage-daemon"]
    assert (folder, tmp) == ("/work", "tmpfs")
    out = command.run(
        tools.host, podman("image", "inspect", "--format", "{{json .Config.Entrypoint}}", built[0])
    )
    assert json.loads(out.stdout) == ["qcow2-conformance"]


def test_an_unchanged_image_is_kept_not_rebuilt(tools, built, session_folder):
    house = wheels.wheelhouse(tools.host, session_folder)
    out = command.run(
        tools.host, [os.path.join(ROOT, "bin", "build-image"), "--wheels", house, "--tag", TAG]
    )
    assert re.fullmatch(rf"build-image: {TAG} is up to date \([0-9a-f]{{64}}\)\n", out.stderr)
    assert command.run(tools.host, podman("image", "exists", BASE), check=False).rc == 0
