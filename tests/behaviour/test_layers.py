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
COMMANDS = {"cli.py", "__main__.py"}


def layer_table():
    """{package: set of packages it may import}, from docs/architecture.md."""
    with open(os.path.join(ROOT, "docs", "architecture.md"), encoding="utf-8") as f:
        section = f.read().split("## Layers", 1)[1].split("\n## ", 1)[0]
    table = {}
    for package, allowed in re.findall(r"^\| `(\w+)` \| (.*) \|$", section, re.M):
        table[package] = set(re.findall(r"`(\w+)`", allowed))
    return table


def parsed(path):
    with open(os.path.join(PACKAGE, path), encoding="utf-8") as f:
        return ast.parse(f.read())


def is_glue(path):
    """The pytest glue: a module of pytest hooks (a plugin), a test module, a command,
    or a module of the package's top (the plugin entry point, the version)."""
    name = os.path.basename(path)
    if name in COMMANDS or name.startswith("test_") or os.sep not in path:
        return True
    return any(
        isinstance(node, ast.FunctionDef) and node.name.startswith("pytest_")
        for node in ast.walk(parsed(path))
    )


def modules():
    """(path relative to the package, its layer or None for glue) of every module."""
    found = []
    for folder, _, names in os.walk(PACKAGE):
        for name in sorted(names):
            if name.endswith(".py"):
                path = os.path.relpath(os.path.join(folder, name), PACKAGE)
                found.append((path, None if is_glue(path) else path.split(os.sep)[0]))
    return sorted(found)


GLUE = {path for path, layer in modules() if layer is None}


def imported(path):
    """The harness's modules path imports, as names below the package ('rules.chain').

    `from qcow2_conformance.rules import chain` names both 'rules' and 'rules.chain'."""
    found = set()
    for node in ast.walk(parsed(path)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found.update(n.split(".", 1)[1] for n in names if n.startswith("qcow2_conformance."))
    return found


def harness_imports(path):
    """The harness packages a module imports (first name below qcow2_conformance)."""
    return {name.split(".")[0] for name in imported(path)}


def test_every_package_has_a_row():
    packages = {layer for _, layer in modules() if layer}
    assert packages == set(layer_table())


@pytest.mark.parametrize("path, layer", [m for m in modules() if m[1]], ids=lambda v: v or "")
def test_a_module_imports_only_what_its_layer_may(path, layer):
    table = layer_table()
    imported = harness_imports(path) - {layer, "__version__"}
    assert imported <= table[layer], f"{path} imports {sorted(imported - table[layer])}"


def glue_imports(path):
    """The glue modules path imports, as paths relative to the package."""
    return {os.path.join(*name.split(".")) + ".py" for name in imported(path)} & GLUE


@pytest.mark.parametrize("path", [p for p, layer in modules() if layer])
def test_nothing_but_glue_imports_the_glue(path):
    assert glue_imports(path) == set()


def test_no_test_module_imports_another():
    # Tables and helpers tests share live in support modules (support.py, faulty_programs.py).
    tests = os.path.join(ROOT, "tests")
    for folder, _, names in os.walk(tests):
        for name in names:
            if name.endswith(".py"):
                with open(os.path.join(folder, name), encoding="utf-8") as f:
                    text = f.read()
                assert not re.search(r"^\s*(from|import) test_\w+", text, re.M), name
