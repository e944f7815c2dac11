"""A self-contained HTML conformance report, from one or more results files.

    python3 -m reports.html OUT.html RESULTS.json [MORE.json ...]

One file, with its CSS and script inline and nothing loaded from the
network: it works opened from disk or attached to a CI job. For each
implementation and qemu release it shows a summary and a matrix of
scenarios by rules; each cell shows its outcome by colour and by symbol,
and its message when clicked.
"""

import datetime
import os
import sys
from collections import Counter, defaultdict
from html import escape

from reports import results
from rules import load_rules
from rules.families import CONFORMANCE
from rules.outcomes import FINDINGS

PAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "page")
SYMBOLS = {"passed": "✓", "failed": "✗", "error": "!", "skipped": "–"}
# A cell stands for several subjects: the worst outcome among them shows.
SEVERITY = ("failed", "error", "passed", "skipped")
FAMILIES = ("snapshot", "chain", "cross-check", "hardening")


def release_of(run):
    return str(run.get("qemu") if run.get("qemu") not in (None, "PATH") else
               run.get("qemu_version", "?").split(" (")[0].replace("qemu-img version ", ""))


def columns(docs):
    """[(implementation, release, records)] in the order of the files."""
    grouped = defaultdict(list)
    for doc in docs:
        for record in doc["results"]:
            grouped[(record["implementation"], release_of(doc["run"]))].append(record)
    return [(impl, release, records) for (impl, release), records in grouped.items()]


def cell_of(records):
    """(outcome, message) standing for the records of one scenario and rule."""
    counts = Counter(r["outcome"] for r in records)
    outcome = next(o for o in SEVERITY if counts[o])
    lines = [f"{r['subject'] or 'scenario'}: {r['outcome']}: {r['message']}"
             for r in records if r["outcome"] != "passed" and r["message"]]
    tally = ", ".join(f"{counts[o]} {o}" for o in SEVERITY if counts[o])
    return outcome, "\n".join([tally] + lines[:20] + (["..."] if len(lines) > 20 else []))


def summary_rows(cols):
    rows = []
    for impl, release, records in cols:
        counts = Counter(r["outcome"] for r in records)
        failing = sorted({r["rule"] for r in records
                          if r["outcome"] in FINDINGS and r["family"] in CONFORMANCE})
        rows.append((impl, release, not failing, counts, failing))
    return rows


def render(docs):
    rules = load_rules()
    cols = columns(docs)
    scenarios = {}
    for doc in docs:
        scenarios.update(doc.get("scenarios", {}))
    parts = [_head(), _filters(cols), _summary(summary_rows(cols))]
    # Matrices that hold failures come first: they are what a reader came for.
    conformant = {(impl, release): ok for impl, release, ok, _, _ in summary_rows(cols)}
    for impl, release, records in sorted(cols, key=lambda c: conformant[(c[0], c[1])]):
        parts.append(_matrix(impl, release, records, rules, scenarios))
    parts.append(_rules(rules))
    parts.append('<div id="detail" class="hidden"></div>')
    parts.append(f"<script>{_read('report.js')}</script></body></html>")
    return "\n".join(parts)


def _read(name):
    with open(os.path.join(PAGE, name), encoding="utf-8") as f:
        return f.read()


def _head():
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    legend = " ".join(f'<span>{SYMBOLS[o]} {o}</span>' for o in SEVERITY)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>qcow2 bitmap conformance</title><style>{_read('report.css')}</style></head>"
            f"<body><h1>qcow2 bitmap conformance</h1><p>Generated {now}. "
            f'<span class="legend">{legend}</span></p>')


def _checkboxes(name, values):
    boxes = "".join(f'<label><input type="checkbox" name="{name}" value="{escape(v)}" checked> '
                    f"{escape(v)}</label>" for v in values)
    return f"<fieldset><legend>{name}</legend>{boxes}</fieldset>"


def _filters(cols):
    impls = list(dict.fromkeys(c[0] for c in cols))
    releases = list(dict.fromkeys(c[1] for c in cols))
    return ('<section id="filters">' + _checkboxes("implementation", impls)
            + _checkboxes("release", releases) + _checkboxes("family", FAMILIES)
            + _checkboxes("outcome", SEVERITY) + "</section>")


def _summary(rows):
    out = ['<h2>Summary</h2><table id="summary"><thead><tr><th>implementation</th><th>qemu</th>'
           "<th>conformant</th><th>passed</th><th>failed</th><th>error</th><th>skipped</th>"
           "<th>failing rules</th></tr></thead><tbody>"]
    for impl, release, ok, counts, failing in sorted(rows, key=lambda r: r[2]):
        verdict = '<span class="verdict-yes">yes</span>' if ok else '<span class="verdict-no">no</span>'
        links = ", ".join(f'<a href="#rule-{escape(r)}">{escape(r)}</a>' for r in failing)
        out.append(f"<tr><td>{escape(impl)}</td><td>{escape(release)}</td><td>{verdict}</td>"
                   + "".join(f"<td>{counts[o]}</td>" for o in results.OUTCOMES)
                   + f"<td>{links}</td></tr>")
    return "".join(out) + "</tbody></table>"


def _matrix(impl, release, records, rules, scenarios):
    by_cell = defaultdict(list)
    for r in records:
        by_cell[(r["scenario"], r["rule"])].append(r)
    rule_ids = [r for r in rules if any(rec["rule"] == r for rec in records)]
    names = list(dict.fromkeys(r["scenario"] for r in records))
    head = "".join(f'<th data-family="{rules[r].family}"><a href="#rule-{r}">{r}</a></th>'
                   for r in rule_ids)
    out = [f'<section data-matrix data-implementation="{escape(impl)}" data-release="{escape(release)}">'
           f"<h2>{escape(impl)} — qemu {escape(release)}</h2>"
           f"<table><thead><tr><th>scenario</th>{head}</tr></thead><tbody>"]
    for name in names:
        chain = scenarios.get(name, {}).get("chain", "")
        row = [f"<tr><th>{escape(name)}<small>{escape(chain)}</small></th>"]
        for rule in rule_ids:
            family = rules[rule].family
            if (name, rule) not in by_cell:
                row.append(f'<td data-family="{family}"></td>')
                continue
            outcome, message = cell_of(by_cell[(name, rule)])
            title = f"{impl} / qemu {release} / {name} / {rule}"
            row.append(f'<td class="cell {outcome}" data-family="{family}" data-outcome="{outcome}"'
                       f' data-title="{escape(title)}" data-message="{escape(message)}"'
                       f' title="{outcome}">{SYMBOLS[outcome]}</td>')
        out.append("".join(row) + "</tr>")
    return "".join(out) + "</tbody></table></section>"


def _rules(rules):
    items = "".join(f'<dt id="rule-{r.id}">{r.id} <small>({r.family})</small></dt>'
                    f"<dd>{escape(r.text)}</dd>" for r in rules.values())
    return f'<h2>Rules</h2><dl class="rules">{items}</dl>'


def write(path, docs):
    partial = f"{path}.partial-{os.getpid()}"
    with open(partial, "w", encoding="utf-8") as f:
        f.write(render(docs))
    os.replace(partial, path)


def main(argv):
    if len(argv) < 2:
        print("usage: python3 -m reports.html OUT.html RESULTS.json [MORE.json ...]", file=sys.stderr)
        return 2
    write(argv[0], [results.read(p) for p in argv[1:]])
    print(f"report: {argv[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
