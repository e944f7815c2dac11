"""A self-contained HTML conformance report, from one or more results files.

    python3 -m reports.html OUT.html RESULTS.json [MORE.json ...]

One file, with its CSS and script inline and nothing loaded from the
network: it works opened from disk or attached to a CI job. For each
implementation and qemu release it shows a summary, then the rules side by
side (reports.table's model, as in the terminal and in summary.md), then a
matrix of scenarios by rules; each cell of a matrix shows its outcome by
colour and by symbol, and its message when clicked.
"""

import datetime
import os
import sys
from collections import defaultdict
from html import escape

from qcow2_conformance.reports import generated_lines, results
from qcow2_conformance.reports import table as model
from qcow2_conformance.rules import load_rules
from qcow2_conformance.rules.families import FAMILIES
from qcow2_conformance.rules.outcomes import (
    ERROR,
    FAILED,
    OUTCOMES,
    PASSED,
    REFUSED,
    SEVERITY,
    SKIPPED,
)

PAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "page")
SYMBOLS = {PASSED: "✓", FAILED: "✗", REFUSED: "⊘", ERROR: "!", SKIPPED: "–"}


def cell_of(records):
    """(outcome, message) standing for the records of one scenario and rule."""
    if all(r["outcome"] == PASSED for r in records):
        # Most cells of a large run: the same text as below, without counting each outcome.
        return PASSED, f"{len(records)} {PASSED}"
    cell = model.Cell.of(records)
    lines = [
        f"{r['subject'] or 'scenario'}: {r['outcome']}: {r['message']}"
        for r in records
        if r["outcome"] != PASSED and r["message"]
    ]
    tally = ", ".join(f"{cell.count(o)} {o}" for o in SEVERITY if cell.count(o))
    return cell.worst, "\n".join([tally] + lines[:20] + (["..."] if len(lines) > 20 else []))


def render(docs):
    cols = model.columns(docs)
    tab = model.build(cols)
    scenarios = {}
    for doc in docs:
        scenarios.update(doc.get("scenarios", {}))
    parts = [_head(), _generated(docs), _filters(tab), _summary(tab), _side_by_side(tab)]
    # Matrices that hold failures come first: they are what a reader came for.
    for index in sorted(range(len(cols)), key=lambda i: tab.verdicts[i].conformant):
        parts.append(_matrix(tab, index, cols[index][1], scenarios))
    parts.append(_rules(load_rules()))
    parts.append('<div id="detail" class="hidden"></div>')
    parts.append(f"<script>{_read('report.js')}</script></body></html>")
    return "\n".join(parts)


def _generated(docs):
    """The smallest failing scenario of each rule, first of all, for generated runs."""
    lines = [line for doc in docs for line in generated_lines.lines(doc)]
    if not lines:
        return ""
    items = "".join(
        f"<li><code>{escape(line.strip())}</code></li>"
        if line.startswith("  ")
        else f"<li>{escape(line)}</li>"
        for line in lines
    )
    return f'<section id="generated"><h2>Generated scenarios</h2><ul>{items}</ul></section>'


def _read(name):
    with open(os.path.join(PAGE, name), encoding="utf-8") as f:
        return f.read()


def _head():
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    legend = " ".join(f"<span>{SYMBOLS[o]} {o}</span>" for o in SEVERITY)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>qcow2 bitmap conformance</title><style>{_read('report.css')}</style></head>"
        f"<body><h1>qcow2 bitmap conformance</h1><p>Generated {now}. "
        f'<span class="legend">{legend}</span></p>'
    )


def _checkboxes(name, values):
    boxes = "".join(
        f'<label><input type="checkbox" name="{name}" value="{escape(v)}" checked> '
        f"{escape(v)}</label>"
        for v in values
    )
    return f"<fieldset><legend>{name}</legend>{boxes}</fieldset>"


def _filters(tab):
    impls = list(dict.fromkeys(c.implementation for c in tab.columns))
    releases = list(dict.fromkeys(c.release for c in tab.columns))
    return (
        '<section id="filters">'
        + _checkboxes("implementation", impls)
        + _checkboxes("release", releases)
        + _checkboxes("family", [f.name for f in FAMILIES])
        + _checkboxes("outcome", SEVERITY)
        + "</section>"
    )


def _summary(tab):
    out = [
        '<h2>Summary</h2><table id="summary"><thead><tr><th>implementation</th><th>qemu</th>'
        "<th>procedure</th><th>conformant</th>"
        + "".join(f"<th>{o}</th>" for o in OUTCOMES)
        + "<th>failing rules</th><th>refused, changing nothing</th></tr></thead><tbody>"
    ]
    for verdict in sorted(tab.verdicts, key=lambda v: v.conformant):
        column = verdict.column
        verdict_html = (
            '<span class="verdict-yes">yes</span>'
            if verdict.conformant
            else '<span class="verdict-no">no</span>'
        )
        links = ", ".join(f'<a href="#rule-{escape(r)}">{escape(r)}</a>' for r in verdict.failing)
        refused = _refused(verdict.refused)
        out.append(
            f"<tr><td>{escape(column.implementation)}</td><td>{escape(column.release)}</td>"
            f"<td>{escape(column.procedure)}</td><td>{verdict_html}</td>"
            + "".join(f"<td>{verdict.cell.count(o)}</td>" for o in OUTCOMES)
            + f"<td>{links}</td><td>{refused}</td></tr>"
        )
    return "".join(out) + "</tbody></table>"


def _refused(scenarios):
    """The scenarios refused: how many, then their names, folded away when many."""
    if not scenarios:
        return ""
    names = escape(", ".join(scenarios))
    if len(scenarios) <= 3:
        return f"{len(scenarios)} scenario{'s' if len(scenarios) > 1 else ''}: {names}"
    return f"<details><summary>{len(scenarios)} scenarios</summary>{names}</details>"


def _side_by_side(tab):
    """The rules by columns, as in the terminal and in summary.md."""
    head = "".join(f"<th>{escape(c.label)}</th>" for c in tab.columns)
    out = [
        '<h2>Rules side by side</h2><table id="side-by-side"><thead><tr><th>rule</th>'
        f"{head}</tr></thead><tbody>"
    ]
    for section in tab.sections:
        family = escape(section.family)
        out.append(
            f'<tr data-family="{family}"><th colspan="{len(tab.columns) + 1}">'
            f"<em>{escape(section.heading)}</em></th></tr>"
        )
        for row in section.rows:
            out.append(
                f'<tr data-family="{family}"><th>{escape(row.rule)}</th>'
                + "".join(
                    f'<td class="count {cell.worst or ""}">{cell.text}</td>' for cell in row.cells
                )
                + "</tr>"
            )
    return "".join(out) + f"</tbody></table><p>{tab.legend}.</p>"


def _matrix(tab, index, records, scenarios):
    column = tab.columns[index]
    impl, release = column.implementation, column.release
    by_cell = defaultdict(list)
    for r in records:
        by_cell[(r["scenario"], r["rule"])].append(r)
    # The rules of this column, in the order and families of the table.
    rules = [
        (section.family, row.rule)
        for section in tab.sections
        for row in section.rows
        if row.cells[index].total
    ]
    names = list(dict.fromkeys(r["scenario"] for r in records))
    head = "".join(
        f'<th data-family="{escape(family)}"><a href="#rule-{escape(rule)}">{escape(rule)}</a></th>'
        for family, rule in rules
    )
    out = [
        f'<section data-matrix data-implementation="{escape(impl)}"'
        f' data-release="{escape(release)}">'
        f"<h2>{escape(impl)} — qemu {escape(release)}</h2>"
        f"<table><thead><tr><th>scenario</th>{head}</tr></thead><tbody>"
    ]
    for name in names:
        chain = scenarios.get(name, {}).get("chain", "")
        row = [f"<tr><th>{escape(name)}<small>{escape(chain)}</small></th>"]
        for family, rule in rules:
            family = escape(family)
            if (name, rule) not in by_cell:
                row.append(f'<td data-family="{family}"></td>')
                continue
            outcome, message = cell_of(by_cell[(name, rule)])
            title = f"{impl} / qemu {release} / {name} / {rule}"
            row.append(
                f'<td class="cell {outcome}" data-family="{family}"'
                f' data-outcome="{outcome}" data-title="{escape(title)}"'
                f' data-message="{escape(message)}" title="{outcome}">'
                f"{SYMBOLS[outcome]}</td>"
            )
        out.append("".join(row) + "</tr>")
    return "".join(out) + "</tbody></table></section>"


def _rules(rules):
    items = "".join(
        f'<dt id="rule-{r.id}">{r.id} <small>({r.family})</small></dt><dd>{escape(r.text)}</dd>'
        for r in rules.values()
    )
    return f'<h2>Rules</h2><dl class="rules">{items}</dl>'


def write(path, docs):
    partial = f"{path}.partial-{os.getpid()}"
    with open(partial, "w", encoding="utf-8") as f:
        f.write(render(docs))
    os.replace(partial, path)


def main(argv):
    if len(argv) < 2:
        print(
            "usage: python3 -m reports.html OUT.html RESULTS.json [MORE.json ...]", file=sys.stderr
        )
        return 2
    write(argv[0], [results.read(p) for p in argv[1:]])
    print(f"report: {argv[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
