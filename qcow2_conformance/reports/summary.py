"""The end-of-run table in the terminal: rules by implementations, side by side.

It lays out reports.table's model as padded text: columns are separated by
two spaces, a family's rows follow a line '-- HEADING', the legend ends it.
"""

from qcow2_conformance.reports import table as model


def table(records, procedure="snapshot"):
    """Return the summary table of one run's records as text lines."""
    return lines(model.from_records(records, procedure))


def lines(tab):
    labels = [column.label for column in tab.columns]
    rows = [row for section in tab.sections for row in section.rows]
    first = max([len("rule")] + [len(row.rule) for row in rows])
    widths = [
        max([len(label)] + [len(row.cells[i].text) for row in rows])
        for i, label in enumerate(labels)
    ]
    out = [_line("rule", first, labels, widths)]
    for section in tab.sections:
        out.append(f"-- {section.heading}")
        out += [_line(row.rule, first, [c.text for c in row.cells], widths) for row in section.rows]
    out.append(tab.legend)
    return out


def _line(first, first_width, cells, widths):
    return "  ".join(
        [f"{first:<{first_width}}"] + [f"{c:<{w}}" for c, w in zip(cells, widths)]
    ).rstrip()
