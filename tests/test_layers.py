"""Layers: every module of the package imports only what its layer may.

The table is docs/architecture.md's ("## Layers"); every module is found by
walking the package, so a new one is checked without being listed here.
"""

import ast
import os
import re

import pytest

from support import ROOT

PACKAGE = os.path.join(ROOT, "qcow2_conformance")
GLUE = {"plugin.py", "cli.py", "__main__.py", "test_rules.py"}


def layer_table():
    """{package: set of packages it may import}, from docs/architecture.md."""
    with open(os.path.join(ROOT, "docs", "architecture.md"), encoding="utf-8") as f:
        section = f.read().split("## Layers", 1)[1].split("\n## ", 1)[0]
    table = {}
    for package, allowed in re.findall(r"^\| `(\w+)` \| (.*) \|$", section, re.M):
        table[package] = set(re.findall(r"`(\w+)`", allowed))
    return table


def modules():
    """(path relative to the package, its layer or None for glue) of every module."""
    found = []
    for folder, _, names in os.walk(PACKAGE):
        for name in sorted(names):
            if name.endswith(".py"):
                path = os.path.relpath(os.path.join(folder, name), PACKAGE)
                parts = path.split(os.sep)
                glue = name in GLUE or len(parts) == 1
                found.append((path, None if glue else parts[0]))
    return sorted(found)


def harness_imports(path):
    """The harness packages a module imports (first name below qcow2_conformance)."""
    with open(os.path.join(PACKAGE, path), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "qcow2_conformance" and len(parts) > 1:
                found.add(parts[1])
    return found


def test_every_package_has_a_row():
    packages = {layer for _, layer in modules() if layer}
    assert packages == set(layer_table())


@pytest.mark.parametrize("path, layer", [m for m in modules() if m[1]], ids=lambda v: v or "")
def test_a_module_imports_only_what_its_layer_may(path, layer):
    table = layer_table()
    glue = {p.removesuffix(".py") for p in GLUE} | {"__version__"}
    imported = harness_imports(path) - {layer} - glue
    assert imported <= table[layer], f"{path} imports {sorted(imported - table[layer])}"


@pytest.mark.parametrize("path", [p for p, layer in modules() if layer])
def test_nothing_but_glue_imports_the_glue(path):
    with open(os.path.join(PACKAGE, path), encoding="utf-8") as f:
        text = f.read()
    assert not re.search(r"^\s*from qcow2_conformance(\.\w+)?\.plugin import", text, re.M), path
    assert not re.search(r"^\s*from qcow2_conformance(\.\w+)? import (cli|plugin)\b", text, re.M)
