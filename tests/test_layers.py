"""Layers: rules depend only on facts, facts on the reader, tools stay below.

Each module is imported alone in a fresh interpreter; what it pulled in
must not reach above its layer.
"""

import subprocess
import sys

import pytest

from support import ROOT

HARNESS = (
    "qcow2",
    "tools",
    "scenarios",
    "fixtures",
    "implementations",
    "observe",
    "rules",
    "conformance",
    "reports",
)

# (module, the harness packages it may import, directly or not)
LAYERS = [
    ("qcow2_conformance.qcow2", {"qcow2"}),
    ("qcow2_conformance.scenarios.model", {"scenarios"}),
    ("qcow2_conformance.observe.facts", {"observe"}),
    ("qcow2_conformance.observe.extents", {"observe"}),
    ("qcow2_conformance.rules.registry", {"rules", "observe", "scenarios"}),
    ("qcow2_conformance.rules.verdict", {"rules", "observe", "scenarios"}),
    ("qcow2_conformance.reports.table", {"reports", "rules", "observe", "scenarios"}),
    (
        "qcow2_conformance.fixtures.plugin",
        {"fixtures", "tools", "scenarios", "implementations", "rules", "observe", "qcow2"},
    ),
]

PROBE = """
import sys
sys.path.insert(0, {root!r})
import {module}
inner = {{m.split(".")[1] for m in sys.modules if m.startswith("qcow2_conformance.")}}
print(" ".join(sorted(inner | {{m.split(".")[0] for m in sys.modules}})))
"""


@pytest.mark.parametrize("module, allowed", LAYERS, ids=[m for m, _ in LAYERS])
def test_a_module_imports_nothing_above_its_layer(module, allowed):
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(root=ROOT, module=module)],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = set(out.stdout.split())
    assert loaded & set(HARNESS) - allowed == set()
    if "tools" not in allowed:
        assert "testinfra" not in loaded
