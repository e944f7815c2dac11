"""The terminal table, Markdown and HTML lay out one model: same columns, same cells.

Nothing here re-derives a count from a view: the model's cells are checked
against hand-written counts once, then each view must show those cells
where the model puts them.
"""

import re
from html import escape

import pytest

from qcow2_conformance.reports import html, markdown, summary, table
from qcow2_conformance.rules.outcomes import OUTCOMES

import support

SPACED = "exec:/opt/my tool"


def record(impl, rule, outcome, family="snapshot", scenario="s1", subject=""):
    return support.record(impl, rule, outcome, family, scenario, subject, message="why")


RECORDS = [
    record(SPACED, "completes", "passed"),
    record(SPACED, "carry-recording", "failed"),
    record(SPACED, "carry-recording", "error", scenario="s2"),
    record(SPACED, "chain-top", "passed", "chain", subject="checkpoint 'a' after"),
    record(SPACED, "chain-top", "skipped", "chain", subject="checkpoint 'b' after"),
    record("reference", "completes", "passed"),
    record("reference", "carry-recording", "passed"),
    record("reference", "no-clobber", "failed", "hardening"),
    record("reference", "qemu-img-agrees", "passed", "cross-check", subject="ACTIVE before"),
]
DOC = {
    "run": {"implementation": "x", "qemu": "7.2", "qemu_version": "qemu-img version 7.2"},
    "results": RECORDS,
}
# The cells, by hand: rows in the order of the families and of the registry.
CELLS = {
    "completes": ["1/1", "1/1"],
    "carry-recording": ["0/2 F1 E1", "1/1"],
    "chain-top": ["1/2 s1", "0/0"],
    "no-clobber": ["0/0", "0/1 F1"],
    "qemu-img-agrees": ["0/0", "1/1"],
}


def markdown_table(docs):
    lines = markdown.render(docs).splitlines()
    return lines[: lines.index("")]


def test_the_model_holds_the_hand_counted_cells():
    model = table.from_docs([DOC])
    assert [c.label for c in model.columns] == [SPACED, "reference"]
    assert {
        row.rule: [c.text for c in row.cells] for s in model.sections for row in s.rows
    } == CELLS
    assert [row.rule for s in model.sections for row in s.rows] == list(CELLS)


def test_the_terminal_table_shows_each_cell_under_its_column():
    model = table.from_records(RECORDS)
    lines = summary.table(RECORDS)
    starts = [lines[0].index(c.label) for c in model.columns]
    assert lines[0] == f"{'rule':<15}  {SPACED}  reference"
    for section in model.sections:
        rows = lines[lines.index(f"-- {section.heading}") + 1 :][: len(section.rows)]
        for line, row in zip(rows, section.rows):
            assert line.startswith(row.rule + " ")
            for start, cell in zip(starts, row.cells):
                assert line[start:].startswith(cell.text + " ") or line[start:] == cell.text
    assert lines[-1] == model.legend


def test_markdown_shows_each_cell_in_its_column():
    model = table.from_docs([DOC])
    lines = markdown_table([DOC])
    assert lines[:2] == [f"| rule | {SPACED} | reference |", "|---|---|---|"]
    rows = [
        f"| {row.rule} | " + " | ".join(c.text for c in row.cells) + " |"
        for s in model.sections
        for row in s.rows
    ]
    assert [line for line in lines[2:] if not line.startswith("| *")] == rows


def test_html_shows_each_cell_in_its_column():
    model = table.from_docs([DOC])
    page = html.render([DOC])
    side = page[page.index('<table id="side-by-side">') :]
    side = side[: side.index("</table>")]
    assert f"<th>rule</th><th>{escape(SPACED)}</th><th>reference</th>" in side
    for section in model.sections:
        for row in section.rows:
            shown = side.split(f"<th>{row.rule}</th>", 1)[1].split("</tr>", 1)[0]
            assert re.findall(r">([^<]*)</td>", shown) == [c.text for c in row.cells]


def test_every_view_gives_the_same_verdicts():
    model = table.from_docs([DOC])
    page = html.render([DOC])
    text = markdown.verdicts(model)
    for verdict, line in zip(model.verdicts, text):
        counts = [verdict.cell.count(o) for o in OUTCOMES]
        assert line.startswith(f"- **{verdict.column.label}** on qemu 7.2: ")
        assert f"({counts[0]} passed, {counts[1]} failed, {counts[2]} refused," in line
        assert f"<td>{escape(verdict.column.implementation)}</td><td>7.2</td>" in page
        assert "".join(f"<td>{n}</td>" for n in counts) in page
    assert [v.conformant for v in model.verdicts] == [False, True]


@pytest.mark.parametrize("name", ["a|b", "ends\\", "a\\|b", "two\nlines"])
def test_a_name_cannot_break_the_markdown_table(name):
    lines = markdown_table(
        [{**DOC, "results": [{**r, "implementation": name} for r in RECORDS[:3]] + RECORDS[5:]}]
    )
    # Every line, header, rule and rows, has one unescaped '|' more than columns.
    bars = {len(re.findall(r"(?<!\\)(?:\\\\)*\|", line)) for line in lines}
    assert bars == {4} and len(lines) > 3
