"""The end-of-run table: rules by implementations, side by side.

A cell reads passed/judged, then the other outcomes: '7/46 F39' is 7 passed
of 46, 39 failed. The cross-check judges the qemu release, not the
implementation, so its rows come last, under a heading of their own.
"""

from collections import Counter

from reports import results
from rules import load_rules

FAMILY_ORDER = ("snapshot", "chain", "hardening", "cross-check")
MARKS = (("failed", "F"), ("error", "E"), ("skipped", "s"))
LEGEND = "cell: passed/total, then F failed, E error (not evaluated), s skipped"


def cell(counts):
    total = sum(counts.values())
    text = f"{counts['passed']}/{total}"
    return " ".join([text] + [f"{mark}{counts[o]}" for o, mark in MARKS if counts[o]])


def table(records):
    """Return the summary table of records as text lines."""
    impls = list(dict.fromkeys(r["implementation"] for r in records))
    known = list(load_rules())
    rules = sorted({(r["family"], r["rule"]) for r in records},
                   key=lambda fr: (FAMILY_ORDER.index(fr[0]) if fr[0] in FAMILY_ORDER else 9,
                                   known.index(fr[1]) if fr[1] in known else 99, fr[1]))
    counts = Counter((r["implementation"], r["rule"], r["outcome"]) for r in records)
    cells = {(impl, rule): cell(Counter({o: counts[(impl, rule, o)]
                                         for o in results.OUTCOMES}))
             for impl in impls for _, rule in rules}
    first = max([len("rule")] + [len(rule) for _, rule in rules])
    widths = [max([len(impl)] + [len(cells[(impl, rule)]) for _, rule in rules]) for impl in impls]
    lines = ["  ".join([f"{'rule':<{first}}"] + [f"{i:<{w}}" for i, w in zip(impls, widths)]).rstrip()]
    family = None
    for fam, rule in rules:
        if fam != family:
            family = fam
            heading = {"cross-check": "cross-check (a verdict on the qemu release, not the"
                                      " implementation)",
                       "hardening": "hardening checks (advisory, not part of conformance)",
                       }.get(fam, f"{fam} rules")
            lines.append(f"-- {heading}")
        lines.append("  ".join([f"{rule:<{first}}"]
                               + [f"{cells[(i, rule)]:<{w}}" for i, w in zip(impls, widths)]).rstrip())
    lines.append(LEGEND)
    return lines
