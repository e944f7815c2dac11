"""docs/ci.md's CI jobs, run as the CI would run them, and its other commands.

Each job's script lines run with bash -e in a fresh folder laid out as the
user's repository (the tool at the path the job names), on this Debian 12
machine for the pip jobs and in the image bin/build-image makes for the
image jobs. What the test changes is what docs/ci.md says it changes:
apt-get lines are checked (the packages they name are installed) rather
than run, pip installs the wheel built from the checkout, PYTEST_ADDOPTS
narrows a run to one scenario, and uses: steps are not run (the paths they
name must exist).
"""

import os
import re
import shlex
import shutil
import uuid

import pytest
import yaml

from qcow2_conformance.tools import command, releases

import wheels
from container import LIMITS, image, missing, podman
from support import FAULTY, ROOT

with open(os.path.join(ROOT, "docs", "ci.md"), encoding="utf-8") as _f:
    CI_DOC = _f.read()
BLOCKS = re.findall(r"^```(\w*)\n(.*?)^```$", CI_DOC, re.M | re.S)
JOBS = [yaml.safe_load(body) for lang, body in BLOCKS if lang == "yaml"]
SH = [body for lang, body in BLOCKS if lang == "sh"]
# Debian 12's own directories: nothing of the checkout's venv is on the job's PATH.
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def kind(job):
    """(ci, how the harness comes) of a YAML block: ("gitlab" | "github", "pip" | "image")."""
    if "jobs" in job:
        (body,) = job["jobs"].values()
        ci, runs_in = "github", body["container"]
    else:
        (body,) = job.values()
        ci, runs_in = "gitlab", body["image"]
    if isinstance(runs_in, dict):
        runs_in = runs_in.get("image") or runs_in["name"]
    return ci, "pip" if runs_in == "debian:12" else "image"


RECIPES = {kind(job): job for job in JOBS}


def test_the_doc_has_a_pip_and_an_image_job_for_each_ci():
    assert sorted(RECIPES) == sorted(
        [("gitlab", "pip"), ("github", "pip"), ("gitlab", "image"), ("github", "image")]
    )
    assert len(JOBS) == 4


def as_run(script):
    """script with each apt-get line replaced by a check that its packages are installed."""
    lines = []
    for line in script.splitlines():
        words = shlex.split(line) if line.strip().startswith("apt-get") else []
        if words[:1] == ["apt-get"]:
            packages = [w for w in words[2:] if not w.startswith("-")]
            line = f"dpkg-query -W {shlex.join(packages)} >/dev/null" if packages else ":"
        lines.append(line)
    return "\n".join(lines)


class HostShell:
    """The job's shell on this machine (the pip jobs, in a debian:12 container in CI)."""

    def __init__(self, host, folder, scratch):
        self.host, self.workdir, self.scratch = host, str(folder), str(scratch)
        self.path = SYSTEM_PATH

    def run(self, script, env):
        return command.run(
            self.host,
            ["bash", "-e", "-c", script],
            cwd=self.workdir,
            env={"PATH": self.path, **env},
            unset=wheels.UNSET,
            check=False,
            timeout=900,
        )

    def read(self, path):
        with open(os.path.join(self.workdir, path), encoding="utf-8") as f:
            return f.read()


class ImageShell(HostShell):
    """The job's shell in a container of the image, the repository mounted as the CI does."""

    def __init__(self, host, folder, scratch, tag, options=()):
        self.host, self.workdir, self.scratch = host, "/builds/project", "/builds/_temp"
        self.outside = {self.workdir: str(folder), self.scratch: str(scratch)}
        self.name = f"ci-recipe-{uuid.uuid4().hex[:12]}"
        command.run(
            host,
            podman("run", "-d", "--rm", "--init", "--name", self.name, *LIMITS, *options)
            + ["-v", f"{folder}:{self.workdir}", "-v", f"{scratch}:{self.scratch}"]
            + ["-w", self.workdir, "--entrypoint", "tail", tag, "-f", "/dev/null"],
        )
        self.path = command.run(host, podman("exec", self.name, "printenv", "PATH")).stdout.strip()

    def run(self, script, env):
        variables = [f"--env={k}={v}" for k, v in {"PATH": self.path, **env}.items()]
        return command.run(
            self.host,
            podman("exec", "-w", self.workdir, *variables, self.name, "bash", "-e", "-c", script),
            check=False,
            timeout=900,
        )

    def read(self, path):
        for inside, outside in self.outside.items():
            if path.startswith(inside + "/"):
                return super().read(outside + path[len(inside) :])
        raise AssertionError(path)

    def stop(self):
        command.run(self.host, podman("rm", "-f", "-t", "0", self.name), check=False)


def gitlab(job, shell, env):
    """Run a GitLab job: (whether it passed, the paths its artifacts name, its output)."""
    (body,) = job.values()
    variables = {k: str(v) for k, v in (body.get("variables") or {}).items()}
    script = as_run("\n".join(body.get("before_script", []) + body["script"]))
    out = shell.run(script, {**env, **variables, "CI_PROJECT_DIR": shell.workdir})
    artifacts = body["artifacts"]
    assert artifacts["when"] == "always"
    return out.rc == 0, [*artifacts["paths"], artifacts["reports"]["junit"]], out.stdout


def github(workflow, shell, env):
    """Run a GitHub Actions job: (whether it passed, the paths its uses: steps name, output)."""
    (body,) = workflow["jobs"].values()
    summary, added_path = f"{shell.scratch}/step-summary.md", f"{shell.scratch}/github-path"
    shell.run(f": > {summary}; : > {added_path}", {})
    env = {**env, "GITHUB_WORKSPACE": shell.workdir, "GITHUB_STEP_SUMMARY": summary}
    env["GITHUB_PATH"] = added_path
    failed, named, output = False, [], ""
    for step in body["steps"]:
        if failed and step.get("if") != "always()":
            continue
        uses = step.get("uses", "")
        if uses.startswith("actions/checkout@"):
            continue  # the folder is the checkout
        if uses:
            named.append(step["with"].get("path") or step["with"]["report_paths"])
            continue
        before = shell.path
        shell.path = ":".join(shell.read(added_path).split()[::-1] + [before])
        out = shell.run(as_run(step["run"]), env)
        shell.path = before
        output += out.stdout + out.stderr
        failed = failed or out.rc != 0
    report = f"{shell.workdir}/conformance-out/summary.md"
    assert shell.read(summary) == shell.read(report), "the summary step did not add the summary"
    # The reports are kept and published whatever the verdict.
    assert len(named) == 2, f"a step that keeps or publishes the reports did not run: {named}"
    return not failed, named, output


def lay_out(folder, program):
    """The user's repository: tests/faulty/PROGRAM as bin/my-snapshot."""
    (folder / "bin").mkdir(parents=True)
    shutil.copy(os.path.join(FAULTY, program), folder / "bin" / "my-snapshot")
    shutil.copy(os.path.join(FAULTY, "recipe.py"), folder / "bin" / "recipe.py")


# (program of tests/faulty as the user's tool, the one scenario judged, the job passes)
TOOLS = [
    ("plain_recipe.py", "recording-alone", True),
    ("omits_granularity.py", "granularity-128k", False),
    # Only an advisory finding (the hardening check no-clobber): the job passes.
    ("plain_recipe.py", "hardening-existing-overlay", True),
]


@pytest.fixture(scope="session")
def house(tools, session_folder):
    return wheels.wheelhouse(tools.host, session_folder)


@pytest.fixture(scope="session")
def image_tag(tools, session_folder, house):
    reason = missing(tools.host)
    if reason:
        pytest.skip(reason)
    return image(tools.host, session_folder, house)[0]


@pytest.mark.parametrize("ci", ["gitlab", "github"])
@pytest.mark.parametrize("program, scenario, passes", TOOLS)
def test_the_pip_job(tools, house, tmp_path, ci, program, scenario, passes):
    assert "bin/my-snapshot" in str(RECIPES[ci, "pip"])
    lay_out(tmp_path / "repo", program)
    (tmp_path / "temp").mkdir()
    shell = HostShell(tools.host, tmp_path / "repo", tmp_path / "temp")
    env = {
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": house,
        "PYTEST_ADDOPTS": f"--scenario={scenario}",
    }
    run = gitlab if ci == "gitlab" else github
    passed, paths, output = run(RECIPES[ci, "pip"], shell, env)
    assert passed == passes, output[-3000:]
    for path in paths:
        assert os.path.exists(tmp_path / "repo" / path), path
    assert os.path.exists(tmp_path / "repo" / "conformance-out" / "report.html")


@pytest.mark.parametrize("ci", ["gitlab", "github"])
@pytest.mark.parametrize("program, scenario, passes", TOOLS)
def test_the_image_job(tools, image_tag, tmp_path, ci, program, scenario, passes):
    job = RECIPES[ci, "image"]
    assert "bin/my-snapshot" in str(job)
    lay_out(tmp_path / "repo", program)
    (tmp_path / "temp").mkdir()
    options = []
    if ci == "github":
        (body,) = job["jobs"].values()
        options = shlex.split(body["container"].get("options", ""))
    shell = ImageShell(tools.host, tmp_path / "repo", tmp_path / "temp", image_tag, options)
    try:
        run = gitlab if ci == "gitlab" else github
        passed, paths, output = run(job, shell, {"PYTEST_ADDOPTS": f"--scenario={scenario}"})
    finally:
        shell.stop()
    assert passed == passes, output[-3000:]
    for path in paths:
        assert os.path.exists(tmp_path / "repo" / path), path


@pytest.fixture(scope="session")
def venv(tools, session_folder):
    return wheels.installed(tools.host, session_folder)


def run_block(tools, venv, folder, text, scenario, **env):
    """An sh block of docs/ci.md, in folder, with the installed harness on PATH."""
    return command.run(
        tools.host,
        ["bash", "-e", "-c", text],
        cwd=folder,
        env={
            "PATH": f"{venv}/bin:{SYSTEM_PATH}",
            "TOOL": "bin/my-snapshot",
            "PYTEST_ADDOPTS": f"--scenario={scenario} -n 0",
            **env,
        },
        unset=wheels.UNSET,
        check=False,
        timeout=900,
    )


def block_with(words):
    (found,) = [b for b in SH if words in b]
    return found


@pytest.mark.parametrize(
    "scenario, status", [("recording-alone", 0), ("hardening-existing-overlay", 1)]
)
def test_strict_advisory_fails_the_job_on_an_advisory_finding(
    tools, venv, tmp_path, scenario, status
):
    lay_out(tmp_path, "plain_recipe.py")
    out = run_block(tools, venv, tmp_path, block_with("--strict-advisory"), scenario)
    assert out.rc == status, out.stdout[-3000:]


def test_another_qemu_release_and_the_comparison(tools, venv, tmp_path):
    try:
        releases.provision(tools.host, "10.0")
    except releases.ReleaseError as e:
        pytest.skip(f"qemu 10.0 cannot be fetched here: {e}")
    lay_out(tmp_path, "plain_recipe.py")
    out = run_block(tools, venv, tmp_path, block_with("qcow2-report"), "recording-alone")
    assert out.rc == 0, out.stdout[-3000:] + out.stderr[-3000:]
    written = set(os.listdir(tmp_path / "conformance-out"))
    for name in (
        "local.json",
        "qemu-10.0.json",
        "qemu-10.0.junit.xml",
        "qemu-10.0.report.html",
        "qemu-10.0.summary.md",
        "qemu-10.0.compare.md",
    ):
        assert name in written


def test_reproducing_a_failure_from_the_artifacts(tools, venv, tmp_path):
    lay_out(tmp_path, "omits_granularity.py")
    out = run_block(
        tools, venv, tmp_path, "qcow2-conformance --impl exec:$TOOL", "granularity-128k"
    )
    assert out.rc == 1
    shutil.copy(tmp_path / "conformance-out" / "results.json", tmp_path / "results.json")
    out = run_block(tools, venv, tmp_path, block_with("json.load"), "granularity-128k")
    assert out.stdout == "granularity-128k\n", out.stderr
    again = block_with("--scenario NAME").replace("NAME", out.stdout.strip())
    out = run_block(tools, venv, tmp_path, again, "granularity-128k", PYTEST_ADDOPTS="")
    assert out.rc == 1, out.stdout[-3000:]
