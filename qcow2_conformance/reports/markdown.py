"""The side-by-side table as Markdown, from one or more results files.

    python3 -m reports.markdown RESULTS.json [MORE.json ...]

One column per implementation; when the files come from runs on different
qemu releases, one column per implementation and release. It lays out
reports.table's model: nothing here reads the terminal table's text.
"""

import sys

from qcow2_conformance.reports import generated_lines, results
from qcow2_conformance.reports import table as model
from qcow2_conformance.rules.outcomes import OUTCOMES


def render(docs):
    return table(model.from_docs(docs)) + _versions(docs)


def table(tab):
    """The model as a Markdown table, then its legend."""
    width = len(tab.columns) + 1
    out = [_row(["rule"] + [column.label for column in tab.columns]), "|" + "---|" * width]
    for section in tab.sections:
        out.append(f"| *{escape(section.heading)}* |" + " |" * (width - 1))
        out += [_row([row.rule] + [cell.text for cell in row.cells]) for row in section.rows]
    return "\n".join(out + ["", tab.legend + ".", ""]) + "\n"


def verdicts(tab):
    """One line per column: conformant or not, the counts, the failing rules, the refusals."""
    lines = []
    several = len({verdict.column.procedure for verdict in tab.verdicts}) > 1
    for verdict in tab.verdicts:
        column = verdict.column
        tally = ", ".join(f"{verdict.cell.count(o)} {o}" for o in OUTCOMES)
        procedure = f", {column.procedure} procedure" if several else ""
        lines.append(
            f"- **{escape(column.implementation)}** on qemu {escape(column.release)}{procedure}: "
            f"{'conformant' if verdict.conformant else 'NOT conformant'} ({tally})"
            + (f"; failing: {', '.join(verdict.failing)}" if verdict.failing else "")
            + (
                f"; refused {len(verdict.refused)}"
                f" scenario{'s' if len(verdict.refused) > 1 else ''}, changing nothing:"
                f" {escape(', '.join(verdict.refused))}"
                if verdict.refused
                else ""
            )
        )
    return lines


def write_summary(path, docs):
    """The Markdown summary for CI job pages: verdicts first, then the table."""
    tab = model.from_docs(docs)
    with open(path, "w", encoding="utf-8") as f:
        first = [line for doc in docs for line in generated_lines.lines(doc)]
        head = ["# qcow2 bitmap conformance", ""]
        if first:
            head += ["## Generated scenarios", ""] + [_item(line) for line in first] + ["", ""]
        f.write("\n".join(head + verdicts(tab)) + "\n\n" + table(tab) + _versions(docs))


def escape(text):
    # A '|' would end a table cell; a newline would end the row.
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _item(line):
    """A list item; an indented line (a command) as code under the one before."""
    if line.startswith("  "):
        return f"  `{line.strip()}`"
    return f"- {escape(line)}"


def _row(cells):
    return "| " + " | ".join(escape(cell) for cell in cells) + " |"


def _versions(docs):
    runs = [doc["run"] for doc in docs]
    found = {r["qemu_version"] for r in runs} | {r.get("libvirt_version", "") for r in runs}
    return "".join(f"- {v}\n" for v in sorted(found - {""}))


def main(paths):
    print(render([results.read(p) for p in paths]), end="")


if __name__ == "__main__":
    main(sys.argv[1:])
