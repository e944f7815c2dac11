"""python -m qcow2_conformance: the qcow2-conformance command."""

from qcow2_conformance.cli import conformance

raise SystemExit(conformance())
