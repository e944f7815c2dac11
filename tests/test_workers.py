"""tests/workers.py, in a pytest session of its own run as tox runs the suite (-n auto),
its hook imported by a conftest.py as tests/conftest.py imports it.

Its one test writes the worker count xdist gave it: a change in how xdist resolves
-n auto, or in its hook's name, fails here rather than making CI slower unnoticed.
"""

import configparser
import os
import subprocess
import sys

from support import ROOT

COUNT_TEST = """
import os

def test_count():
    with open(os.environ["COUNT_FILE"], "w") as f:
        f.write(os.environ["PYTEST_XDIST_WORKER_COUNT"])
"""


def workers_of_auto(tmp_path, **env):
    (tmp_path / "test_count.py").write_text(COUNT_TEST)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "conftest.py").write_text("from workers import pytest_xdist_auto_num_workers\n")
    environ = {k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_AUTO_NUM_WORKERS"}
    environ |= {"PYTHONPATH": os.path.join(ROOT, "tests"), "COUNT_FILE": str(tmp_path / "n")}
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "auto", "-q"]
        + ["-p", "no:cacheprovider", "-c", str(tmp_path / "pytest.ini"), str(tmp_path)],
        cwd=tmp_path,
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    return int((tmp_path / "n").read_text())


def test_auto_gives_two_workers_more_than_the_cpus(tmp_path):
    assert workers_of_auto(tmp_path) == len(os.sched_getaffinity(0)) + 2


def test_xdists_variable_still_decides(tmp_path):
    assert workers_of_auto(tmp_path, PYTEST_XDIST_AUTO_NUM_WORKERS="1") == 1


def test_tox_passes_the_variable_on():
    ini = configparser.ConfigParser(interpolation=None)
    ini.read(os.path.join(ROOT, "tox.ini"))
    passed = [name.strip() for name in ini["testenv"]["passenv"].split(",")]
    assert "PYTEST_XDIST_AUTO_NUM_WORKERS" in passed
