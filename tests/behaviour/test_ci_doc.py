"""docs/ci.md names only what the harness has: its options, commands and report files.

tests/behaviour/test_ci_recipes.py runs the jobs and commands themselves; this checks
the names the text quotes, which no run would catch.
"""

import os
import re
import tomllib

import pytest

from support import ROOT


def read(name):
    with open(os.path.join(ROOT, name), encoding="utf-8") as f:
        return f.read()


CI_DOC = read("docs/ci.md")
BLOCKS = re.findall(r"^```(\w*)\n(.*?)^```$", CI_DOC, re.M | re.S)
CODE = "\n".join(body for _, body in BLOCKS)
SCRIPTS = tomllib.loads(read("pyproject.toml"))["project"]["scripts"]


def known_options():
    """The plugin's options, and pytest-xdist's -n."""
    plugin = read("qcow2_conformance/plugin.py")
    return set(re.findall(r'addoption\(\s*"(--[\w-]+)"', plugin)) | {"-n"}


def named_options():
    """Every option of qcow2-conformance in the doc: in its command lines, and quoted."""
    found = set(re.findall(r"`(--[a-z][\w-]*)", CI_DOC))
    for line in CODE.splitlines():
        if "qcow2-conformance " in line and "pip install" not in line:
            command = re.split(r"\||&&|;|#", line.split("qcow2-conformance ", 1)[1])[0]
            found.update(re.findall(r"(?<![\w/.$:-])(--?[a-z][\w-]*)", command))
    return sorted(found)


@pytest.mark.parametrize("option", named_options())
def test_options_exist(option):
    assert option in known_options()


def test_commands_are_the_packages_console_scripts():
    named = set(re.findall(r"(?<![\w/.-])(qcow2-[a-z]+)(?=\s)", CODE))
    assert named - {"qcow2-conformance"}, "the doc names the other commands"
    assert named <= set(SCRIPTS) | {"qcow2-conformance"}
    assert "qcow2-conformance" in SCRIPTS


def test_report_files_are_those_the_harness_writes():
    writer = read("qcow2_conformance/reports/collector.py")
    for listed, written in (
        ("results.junit.xml", '".junit.xml"'),
        ("report.html", 'report.html"'),
        ("summary.md", 'summary.md"'),
    ):
        assert f"`{listed}`" in CI_DOC and written in writer


def test_the_missing_qemu_packages_are_those_the_harness_names():
    from qcow2_conformance.tools.toolset import PACKAGES

    for binary, package in PACKAGES.items():
        assert f"{binary}" in CI_DOC and f"`{package}`" in CI_DOC
