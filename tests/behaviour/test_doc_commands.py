"""Every command README.md and the docs pages show a user is run here, as a user runs it.

The rule for fenced blocks in the pages of OWNED:

- ```sh holds commands to copy. The whole block runs with `bash -e -o pipefail`
  in a fresh, empty folder, with the installed console scripts first on PATH
  and nothing of pytest, tox or the venv in the environment, and must exit 0.
  Its placeholders are variables set here: $TOOL, a conformant snapshot program
  (tests/programs/qmp_snapshot.py), and $COMMIT_TOOL, a conformant commit
  program (tests/faulty/commit_recipe.py).
- ```sh needs=WHAT holds commands that need what a test machine may lack (see
  NEEDS): run when WHAT is there, skipped with the reason otherwise.
- ```text, ```toml, ```json and ```yaml are shown, never run: output, file formats.

Any other fence is refused in those pages, so a command cannot be shown unrun.

bin/conformance and bin/selftest, README's first two commands, are checked to
be those, not run: they bootstrap a Debian machine (apt-get, a venv) and run
the whole catalog and the whole test suite. CI runs bin/selftest, and with it
this file.

The pages' lists are checked against what they list: the index against docs/,
the catalog page against the catalog, the options page against plugin.py; and
every relative link against its page and heading. (Where a module's test is,
docs/development.md says as a rule; tests/behaviour/test_tests_mirror_the_package.py
checks it.)
"""

import os
import re
import sys
from dataclasses import dataclass

import pytest

from qcow2_conformance.scenarios import load_catalog
from qcow2_conformance.tools import command, cpus, releases

from support import ROOT

# The pages whose commands this file keeps true.
OWNED = [
    "README.md",
    "docs/index.md",
    "docs/exec-contract.md",
    "docs/options.md",
    "docs/procedures.md",
    "docs/remote-hosts.md",
    "docs/qemu-releases.md",
    "docs/generated-scenarios.md",
    "docs/lifecycles.md",
    "docs/scenarios.md",
    "docs/development.md",
    "docs/benchmarks.md",
    "docs/findings.md",
]
# Pages other branches write; linked from OWNED before they are merged.
OTHERS = {
    "ci.md",
    "pytest-plugin.md",
    "container.md",
    "reports.md",
    "exit-statuses.md",
    "libvirt.md",
}
SHOWN = {"text", "toml", "json", "yaml"}
# Names of the layout before the package; a page that uses one has drifted.
STALE = [
    "reports/out",
    ".cache/qemu",
    "-m reports.",
    "-m implementations",
    "-m tools.",
    "requirements.txt",
]

TOOL = os.path.join(ROOT, "tests", "programs", "qmp_snapshot.py")
COMMIT_TOOL = os.path.join(ROOT, "tests", "faulty", "commit_recipe.py")


def _releases_cached():
    missing = [
        r
        for r in releases.RELEASES
        if not os.path.exists(os.path.join(releases.CACHE, f"qemu-{r}", ".complete"))
    ]
    if missing:
        return (
            f"qemu {', '.join(missing)} not in {releases.CACHE}; fetching needs the network:"
            f" python3 -m qcow2_conformance.tools.releases {' '.join(missing)}"
        )
    return None


def _checkout_venv():
    if not os.access(os.path.join(ROOT, ".venv", "bin", "tox"), os.X_OK):
        return "needs the checkout's .venv with tox (bin/selftest or bin/conformance makes it)"
    return None


# needs=WHAT -> what tells whether it is there: a skip reason, or None to run.
NEEDS = {
    "bootstrap": lambda: (
        "bootstraps a Debian machine with apt-get and a venv; CI runs bin/selftest"
    ),
    "minutes": lambda: "takes minutes; the figures it reproduces are dated beside it",
    "network": lambda: "installs from PyPI",
    "ssh-host": lambda: (
        "needs a machine to reach over ssh"
        " (tests/behaviour/test_remote.py judges over a loopback sshd)"
    ),
    "qemu-releases": _releases_cached,
    # Runs in the checkout itself, as a developer does.
    "checkout": _checkout_venv,
}


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    lang: str
    needs: str
    body: str

    @property
    def id(self):
        return f"{self.page}:{self.line}"


def read(page):
    with open(os.path.join(ROOT, page), encoding="utf-8") as f:
        return f.read()


def blocks(page):
    """The fenced blocks of page, each with the line of its opening fence."""
    found, lines = [], read(page).splitlines()
    i = 0
    while i < len(lines):
        opening = re.match(r"^```(.*)$", lines[i])
        if not opening:
            i += 1
            continue
        end = lines.index("```", i + 1)
        info = opening.group(1).split()
        lang = info[0] if info else ""
        needs = next((w.split("=", 1)[1] for w in info[1:] if w.startswith("needs=")), "")
        found.append(Block(page, i + 1, lang, needs, "\n".join(lines[i + 1 : end]) + "\n"))
        i = end + 1
    return found


def commands(body):
    """The commands of a shell block: continuation lines joined, comments dropped."""
    joined = body.replace("\\\n", " ")
    return [
        line.split(" #")[0].strip()
        for line in joined.splitlines()
        if line.strip() and not line.startswith("#")
    ]


ALL = [b for page in OWNED for b in blocks(page)]
RUN = [b for b in ALL if b.lang == "sh"]


def test_every_fence_follows_the_rule():
    wrong = [
        f"{b.id}: ```{b.lang} {b.needs}" for b in ALL if not (b.lang == "sh" or b.lang in SHOWN)
    ]
    wrong += [f"{b.id}: needs={b.needs}" for b in ALL if b.needs and b.needs not in NEEDS]
    assert not wrong, "a fence is ```sh [needs=WHAT] or one of " + ", ".join(sorted(SHOWN))


def test_readme_opens_with_the_two_commands():
    first = blocks("README.md")[0]
    assert first.lang == "sh"
    assert commands(first.body) == ["bin/conformance", "bin/selftest"]


def test_readme_is_short():
    assert len(read("README.md").splitlines()) < 150


@pytest.mark.parametrize("block", RUN, ids=[b.id for b in RUN])
def test_the_commands_run(block, tools, tmp_path):
    reason = NEEDS[block.needs]() if block.needs else None
    if reason:
        pytest.skip(reason)
    # The user's shell: the console scripts on PATH, nothing of this session's pytest or tox.
    unset = [
        n
        for n in os.environ
        if n.startswith(("PYTEST_", "TOX_")) or n in ("VIRTUAL_ENV", "COLUMNS", "LINES")
    ]
    env = {
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"],
        "TOOL": TOOL,
        "COMMIT_TOOL": COMMIT_TOOL,
    }
    out = command.run(
        tools.host,
        ["bash", "-e", "-o", "pipefail", "-c", block.body],
        env=env,
        unset=unset,
        cwd=ROOT if block.needs == "checkout" else tmp_path,
        check=False,
        timeout=900,
        cpus=cpus.unpinned(),
    )
    assert out.rc == 0, (
        f"{block.id}: exit status {out.rc}\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    )


def slug(heading):
    """The anchor GitHub gives a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page):
    return {slug(h) for h in re.findall(r"^#+ (.*)$", read(page), re.M)}


def links(page):
    """(target page, anchor) of every relative link of page, paths from ROOT."""
    found = []
    for target in re.findall(r"\]\(([^)\s]+)\)", read(page)):
        if re.match(r"\w+:", target):
            continue
        path, _, anchor = target.partition("#")
        path = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
        found.append((path, anchor))
    return found


@pytest.mark.parametrize("page", OWNED)
def test_links_reach_pages_and_headings(page):
    broken = []
    for path, anchor in links(page):
        if os.path.basename(path) in OTHERS and os.path.dirname(path) == "docs":
            continue
        if not os.path.exists(os.path.join(ROOT, path)):
            broken.append(path)
        elif anchor and path.endswith(".md") and anchor not in anchors(path):
            broken.append(f"{path}#{anchor}")
    assert not broken


def test_the_index_lists_every_page():
    listed = {os.path.basename(p) for p, _ in links("docs/index.md")}
    pages = {n for n in os.listdir(os.path.join(ROOT, "docs")) if n.endswith(".md")} | OTHERS
    assert pages - {"index.md"} <= listed


@pytest.mark.parametrize("page", OWNED)
def test_no_names_of_the_layout_before_the_package(page):
    text = read(page)
    assert [name for name in STALE if name in text] == []


def test_the_catalog_page_lists_the_catalog():
    section = read("docs/scenarios.md").split("\n## The catalog\n", 1)[1]
    rows = re.findall(r"^\| `([^`]+)` \| (.*?) ?\|$", section, re.M)
    listed = {name: text.replace("\\|", "|").strip() for name, text in rows}
    assert listed == {s.name: s.description for s in load_catalog()}


def test_the_options_page_lists_every_option():
    table = re.findall(r"^\| `(--?[a-z][\w-]*)", read("docs/options.md"), re.M)
    plugin = re.findall(r'addoption\(\s*"(--[\w-]+)"', read("qcow2_conformance/plugin.py"))
    assert sorted(table) == sorted([*plugin, "-n"])
