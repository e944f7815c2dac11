"""The end-of-run table: rules x outcomes, per implementation and rule family.

The cross-check judges the qemu release, not the implementation, so it gets
a block of its own after the implementations' verdicts.
"""

from collections import Counter

from reports.results import OUTCOMES

FAMILY_ORDER = ("snapshot", "chain", "hardening")
QEMU_FAMILY = "cross-check"


def _block(title, records):
    rules = list(dict.fromkeys(r["rule"] for r in records))
    width = max([len("rule")] + [len(r) for r in rules])
    lines = [title, f"  {'rule':<{width}}  " + "  ".join(f"{o:>7}" for o in OUTCOMES)]
    for rule in rules:
        counts = Counter(r["outcome"] for r in records if r["rule"] == rule)
        lines.append(f"  {rule:<{width}}  " + "  ".join(f"{counts[o]:>7}" for o in OUTCOMES))
    return lines


def table(records):
    """Return the summary table of records as text lines."""
    lines = []
    for impl in sorted({r["implementation"] for r in records}):
        mine = [r for r in records if r["implementation"] == impl]
        verdicts = sorted((r for r in mine if r["family"] != QEMU_FAMILY),
                          key=lambda r: (FAMILY_ORDER.index(r["family"])
                                         if r["family"] in FAMILY_ORDER else 9))
        lines += _block(f"implementation: {impl}", verdicts)
        qemu = [r for r in mine if r["family"] == QEMU_FAMILY]
        if qemu:
            lines += _block(f"qemu release under test (cross-check, seen while running {impl})",
                            qemu)
    return lines
