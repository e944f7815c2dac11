"""docs/ci.md stays true to the harness: its jobs, commands and options exist.

PyYAML is not among the harness's dependencies, so the YAML blocks are
checked for the lines that make the doc's promises rather than parsed.
"""

import os
import re

import pytest

from support import ROOT


def read(name):
    with open(os.path.join(ROOT, name), encoding="utf-8") as f:
        return f.read()


CI_DOC = read("docs/ci.md")
BLOCKS = re.findall(r"^```(\w*)\n(.*?)^```$", CI_DOC, re.M | re.S)
CODE = "\n".join(body for _, body in BLOCKS)


def known_options():
    """The options the README's table and conftest.py give bin/conformance."""
    table = re.findall(r"^\| (`[^|]*) \|", read("README.md"), re.M)
    from_readme = {o for cell in table for o in re.findall(r"`(--?[a-z][\w-]*)", cell)}
    return from_readme | set(
        re.findall(r'addoption\(\s*"(--[\w-]+)"', read("qcow2_conformance/plugin.py"))
    )


def named_options():
    """Every option of bin/conformance in the doc: in its command lines, and quoted in the text."""
    found = set(re.findall(r"`(--[a-z][\w-]*)", CI_DOC))
    for line in CODE.splitlines():
        if "bin/conformance" in line:
            command = re.split(r"\||&&|;|#", line.split("bin/conformance", 1)[1])[0]
            found.update(re.findall(r"(?<![\w/.$-])(--?[a-z][\w-]*)", command))
    return sorted(found)


def test_has_a_gitlab_and_a_github_job_keeping_reports_always():
    yaml = [body for lang, body in BLOCKS if lang == "yaml"]
    gitlab = [b for b in yaml if "artifacts:" in b]
    github = [b for b in yaml if "jobs:" in b]
    assert len(gitlab) == 1 and len(github) == 1
    for line in (
        "image: debian:12",
        "when: always",
        "junit: harness/reports/out/results.junit.xml",
        "- harness/reports/out/",
    ):
        assert line in gitlab[0]
    for line in (
        "container: debian:12",
        "uses: actions/upload-artifact@v4",
        "path: harness/reports/out/",
        "report_paths: harness/reports/out/results.junit.xml",
    ):
        assert line in github[0]
    # Every step after the judging one must run when it failed.
    after = github[0].split("name: Judge the tool", 1)[1].split("\n      - ")[1:]
    assert after and all("if: always()" in step for step in after)


@pytest.mark.parametrize("option", named_options())
def test_options_exist(option):
    assert option in known_options()


def test_commands_and_modules_exist():
    # The harness's commands, not the user's tool ($CI_PROJECT_DIR/bin/...).
    commands = set(re.findall(r"(?:^|[\s\"'(]|harness/)bin/([\w-]+)", CODE, re.M))
    assert "conformance" in commands
    for name in commands:
        assert os.access(os.path.join(ROOT, "bin", name), os.X_OK), name
    for module in set(re.findall(r"python3? -m ([\w.]+)", CI_DOC)):
        assert os.path.isfile(os.path.join(ROOT, *module.split(".")) + ".py"), module


def test_report_files_are_those_the_harness_writes():
    writer = read("qcow2_conformance/reports/plugin.py")
    for listed, written in (
        ("results.junit.xml", '".junit.xml"'),
        ("report.html", 'report.html"'),
        ("summary.md", 'summary.md"'),
    ):
        assert f"`{listed}`" in CI_DOC and written in writer
