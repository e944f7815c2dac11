"""The package as a user installs it: the wheel, in a fresh venv, run from any folder.

Nothing here imports the checkout's code into the commands it runs: they
are the fresh venv's console scripts, started in a temporary folder with no
PYTHONPATH, so a file the wheel lacks makes them fail.
"""

import glob
import json
import os
import re
import shutil
import zipfile

import pytest

from qcow2_conformance.tools import command, qemu_img

import wheels
from faulty_programs import JUDGED
from support import FAULTY, ROOT

REPORTS = ("results.json", "results.junit.xml", "report.html", "summary.md")


@pytest.fixture(scope="session")
def house(tools, session_folder):
    return wheels.wheelhouse(tools.host, session_folder)


@pytest.fixture(scope="session")
def venv(tools, session_folder):
    return wheels.installed(tools.host, session_folder)


def run(tools, venv, argv, cwd, env=None):
    """A console script of the fresh venv, in cwd, as a user's shell would start it."""
    return command.run(
        tools.host,
        [os.path.join(venv, "bin", argv[0]), *argv[1:]],
        cwd=cwd,
        env=env,
        unset=wheels.UNSET,
        check=False,
        timeout=600,
    )


def copy_tool(folder, program):
    """tests/faulty/PROGRAM as folder/my-tool, with the recipe it imports beside it."""
    folder.mkdir(exist_ok=True)
    shutil.copy(os.path.join(FAULTY, program), folder / "my-tool")
    shutil.copy(os.path.join(FAULTY, "recipe.py"), folder / "recipe.py")
    return folder / "my-tool"


def package_files(*patterns):
    found = set()
    for pattern in patterns:
        found.update(glob.glob(pattern, root_dir=ROOT))
    return found


def test_the_wheel_carries_the_catalog_the_suite_ini_and_the_report_page(house):
    names = set(zipfile.ZipFile(wheels.the_wheel(house)).namelist())
    wanted = package_files(
        "qcow2_conformance/scenarios/*.toml",
        "qcow2_conformance/reports/page/*",
        "qcow2_conformance/conformance/pytest.ini",
    )
    assert len(wanted) > 10
    assert wanted - names == set()
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    text = zipfile.ZipFile(wheels.the_wheel(house)).read(entry_points).decode()
    for script in ("qcow2-conformance", "qcow2-snapshot", "qcow2-commit", "qcow2-report"):
        assert f"{script} = qcow2_conformance.cli:" in text
    assert "[pytest11]" in text


def test_the_installed_package_is_the_one_that_runs(tools, venv, tmp_path):
    out = run(
        tools, venv, ["python", "-c", "import qcow2_conformance as p; print(p.__file__)"], tmp_path
    )
    assert out.stdout.strip().startswith(os.path.join(venv, "lib")), out.stdout + out.stderr


@pytest.mark.parametrize("impl, scenario, status", JUDGED)
def test_the_command_judges_from_any_folder(tools, venv, tmp_path, impl, scenario, status):
    spec = impl
    if impl != "reference":
        copy_tool(tmp_path / "tools", impl)
        spec = "exec:tools/my-tool"
    argv = ["qcow2-conformance", f"--impl={spec}", f"--scenario={scenario}", "-n", "0"]
    out = run(tools, venv, argv, tmp_path)
    assert out.rc == status, out.stdout[-2000:] + out.stderr[-2000:]
    # pytest's last line counts warnings: an installed run has none of its own.
    assert "warning" not in out.stdout.splitlines()[-1], out.stdout[-2000:]
    assert sorted(os.listdir(tmp_path / "conformance-out")) == sorted(REPORTS)
    doc = json.loads((tmp_path / "conformance-out" / "results.json").read_text())
    assert {r["implementation"] for r in doc["results"]} == {spec}
    assert {r["scenario"] for r in doc["results"]} == {scenario}


def test_the_other_commands_run(tools, venv, tmp_path):
    qemu_img.create(tools, str(tmp_path / "base.qcow2"), size="64M")
    qemu_img.bitmap(tools, str(tmp_path / "base.qcow2"), "b1", "--add")
    out = run(tools, venv, ["qcow2-snapshot", "base.qcow2", "top.qcow2"], tmp_path)
    assert out.stdout == "top.qcow2: created on top of base.qcow2, 1 bitmaps carried\n", out.stderr
    out = run(tools, venv, ["qcow2-commit", "top.qcow2", "base.qcow2"], tmp_path)
    assert out.rc == 0 and "top.qcow2 committed into it" in out.stdout, out.stderr
    out = run(tools, venv, ["qcow2-report", "--help"], tmp_path)
    assert out.rc == 0 and "old" in out.stdout and "new" in out.stdout


def test_the_report_command_compares_two_results_files(tools, venv, tmp_path):
    out = run(tools, venv, ["qcow2-conformance", "--scenario=recording-alone", "-n", "0"], tmp_path)
    assert out.rc == 0, out.stdout[-2000:]
    results = "conformance-out/results.json"
    out = run(tools, venv, ["qcow2-report", results, results], tmp_path)
    assert out.rc == 0, out.stdout + out.stderr
    assert (tmp_path / "conformance-out" / "results.compare.md").exists()


def said(out):
    """The lines a run printed; pytest starts the line of a run it stopped with 'Exit: '."""
    lines = [line for line in (out.stdout + out.stderr).splitlines() if line.strip()]
    return [line.removeprefix("Exit: ") for line in lines]


def path_with(tools, folder, qemu):
    """A PATH of one folder: the shell tools the harness runs, and the qemu binaries named."""
    folder.mkdir()
    for name in ("sh", "env", "timeout", "taskset", "prlimit", "test"):
        os.symlink(shutil.which(name), folder / name)
    for name in qemu:
        os.symlink(os.path.join(tools.bindir, name), folder / name)
    return str(folder)


# (the qemu binaries on PATH, the one line the command stops with)
MISSING = [
    (
        (),
        "harness: qemu-img not found on PATH: it comes with the Debian package qemu-utils"
        " (apt-get install qemu-utils), or pass --qemu-img PATH",
    ),
    (
        ("qemu-img",),
        "harness: qemu-io not found beside {bin}/qemu-img: it comes with the Debian package"
        " qemu-utils (apt-get install qemu-utils)",
    ),
    (
        ("qemu-img", "qemu-io", "qemu-nbd"),
        "harness: qemu-storage-daemon not found beside {bin}/qemu-img: it comes with the"
        " Debian package qemu-system-common (apt-get install qemu-system-common)",
    ),
]


@pytest.mark.parametrize("qemu, line", MISSING)
def test_a_missing_qemu_binary_names_its_debian_package(tools, venv, tmp_path, qemu, line):
    folder = path_with(tools, tmp_path / "bin", qemu)
    out = run(tools, venv, ["qcow2-conformance", "-n", "0"], tmp_path, env={"PATH": folder})
    assert out.rc == 2, out.stdout[-2000:] + out.stderr[-2000:]
    assert said(out) == [line.format(bin=folder)]


def test_generate_without_hypothesis_names_the_extra(tools, venv, tmp_path):
    out = run(tools, venv, ["qcow2-conformance", "--generate=2", "-n", "0"], tmp_path)
    assert out.rc == 2, out.stdout[-2000:] + out.stderr[-2000:]
    assert said(out) == [
        "harness: --generate draws scenarios with hypothesis, which is not installed:"
        " pip install 'qcow2-conformance[generate]'"
    ]


def test_the_plugin_is_inert_in_another_pytest_session(tools, venv, tmp_path):
    (tmp_path / "test_ordinary.py").write_text("def test_sum():\n    assert 1 + 1 == 2\n")
    out = run(tools, venv, ["pytest"], tmp_path)
    assert out.rc == 0, out.stdout + out.stderr
    assert "1 passed" in out.stdout
    # pytest's header lists the installed plugins; nothing else may name the harness.
    said = [line for line in out.stdout.splitlines() if not line.startswith("plugins:")]
    assert not [line for line in said if "harness" in line or "conformance" in line], said
    assert out.stderr == ""
    # pytest's own cache folders only.
    assert set(os.listdir(tmp_path)) - {".pytest_cache", "__pycache__"} == {"test_ordinary.py"}
    # It is loaded all the same: its options are there.
    out = run(tools, venv, ["pytest", "--help"], tmp_path)
    assert "--impl=NAME" in out.stdout


def doc_blocks(name, lang):
    with open(os.path.join(ROOT, "docs", name), encoding="utf-8") as f:
        return re.findall(rf"^```{lang}\n(.*?)^```$", f.read(), re.M | re.S)


def embed(tools, venv, folder, program, scenario, extra="", options="-n 0"):
    """docs/pytest-plugin.md's module and command, in folder, judging tests/faulty/PROGRAM.

    PYTEST_ADDOPTS (read by pytest itself) narrows the run to one scenario
    and adds options.
    """
    (module,) = doc_blocks("pytest-plugin.md", "python")
    path = re.match(r"# (\S+):", module).group(1)
    (folder / os.path.dirname(path)).mkdir(parents=True, exist_ok=True)
    (folder / path).write_text(module)
    copy_tool(folder / "tools", program)
    os.symlink("tools/my-tool", folder / "my-tool")
    (command_line,) = doc_blocks("pytest-plugin.md", "sh")
    return command.run(
        tools.host,
        ["bash", "-e", "-c", command_line.replace("\n", extra + "\n", 1)],
        cwd=folder,
        env={
            "PATH": f"{venv}/bin:{os.environ['PATH']}",
            "PYTEST_ADDOPTS": f"--scenario={scenario} {options}",
        },
        unset=wheels.UNSET,
        check=False,
        timeout=600,
    )


@pytest.mark.parametrize(
    "program, scenario, options, status",
    [
        ("plain_recipe.py", "recording-alone", "-n 0", 0),
        ("omits_granularity.py", "granularity-128k", "-n 0", 1),
        # The doc's examples of the command's options: another procedure, xdist workers.
        ("commit_recipe.py", "commit-one-active", "--procedure=commit -n 2", 0),
    ],
)
def test_a_projects_own_suite_judges_its_tool(
    tools, venv, tmp_path, program, scenario, options, status
):
    out = embed(tools, venv, tmp_path, program, scenario, options=options)
    assert out.rc == status, out.stdout[-2000:] + out.stderr[-2000:]
    assert sorted(os.listdir(tmp_path / "conformance-out")) == sorted(REPORTS)
    doc = json.loads((tmp_path / "conformance-out" / "results.json").read_text())
    assert {r["implementation"] for r in doc["results"]} == {"exec:./my-tool"}
    assert {r["scenario"] for r in doc["results"]} == {scenario}


def test_a_failing_test_of_the_project_fails_the_session(tools, venv, tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_mine.py").write_text("def test_mine():\n    assert 1 == 2\n")
    out = embed(tools, venv, tmp_path, "plain_recipe.py", "recording-alone", " tests/test_mine.py")
    assert out.rc == 1, out.stdout[-2000:]
    assert "conformance: every snapshot and chain rule held" in out.stdout
    assert "1 failed" in out.stdout


def test_without_impl_the_module_writes_no_reports(tools, venv, tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_bitmaps.py").write_text(doc_blocks("pytest-plugin.md", "python")[0])
    out = run(tools, venv, ["pytest", "-n", "0", "--scenario=recording-alone", "tests"], tmp_path)
    assert out.rc == 0, out.stdout[-2000:]
    assert not (tmp_path / "conformance-out").exists()
