"""The families of rules: their order in every report, their headings, and
which are advisory (reported, never part of conformance)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    name: str
    heading: str
    advisory: bool


FAMILIES = (
    Family("snapshot", "snapshot rules", False),
    Family("chain", "chain rules", False),
    Family("commit", "commit rules", False),
    Family("lifecycle", "lifecycle rules (proven by restoring real backups)", False),
    Family("hardening", "hardening checks (advisory, not part of conformance)", True),
    Family(
        "cross-check", "cross-check (a verdict on the qemu release, not the implementation)", True
    ),
)
BY_NAME = {f.name: f for f in FAMILIES}
# Families whose findings make an implementation non-conformant.
CONFORMANCE = tuple(f.name for f in FAMILIES if not f.advisory)


def order(name):
    """Sort key of a family name; names the harness does not know come last."""
    names = [f.name for f in FAMILIES]
    return names.index(name) if name in names else len(names)
