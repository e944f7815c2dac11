"""The end-of-run table: rules x outcomes, one block per implementation."""

from collections import Counter

from reports.results import OUTCOMES


def table(records):
    """Return the summary table of records as text lines."""
    lines = []
    impls = sorted({r["implementation"] for r in records})
    for impl in impls:
        mine = [r for r in records if r["implementation"] == impl]
        rules = list(dict.fromkeys(r["rule"] for r in mine))
        width = max([len("rule")] + [len(r) for r in rules])
        lines.append(f"implementation: {impl}")
        lines.append(f"  {'rule':<{width}}  " + "  ".join(f"{o:>7}" for o in OUTCOMES))
        for rule in rules:
            counts = Counter(r["outcome"] for r in mine if r["rule"] == rule)
            lines.append(f"  {rule:<{width}}  " + "  ".join(f"{counts[o]:>7}" for o in OUTCOMES))
        total = Counter(r["outcome"] for r in mine)
        lines.append(f"  {'total':<{width}}  " + "  ".join(f"{total[o]:>7}" for o in OUTCOMES))
    return lines
