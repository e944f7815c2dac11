"""The side-by-side table as Markdown, from one or more results files.

    python3 -m reports.markdown RESULTS.json [MORE.json ...]

One column per implementation; when the files come from runs on different
qemu releases, one column per implementation and release.
"""

import sys

from reports import results, summary


def render(docs):
    by_release = len({doc["run"].get("qemu_version") for doc in docs}) > 1
    records = [{**r, "implementation": _column(r, doc["run"], by_release)}
               for doc in docs for r in doc["results"]]
    lines = summary.table(records)
    header, rows = lines[0].split(), lines[1:-1]
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        if row.startswith("-- "):
            out.append(f"| *{row[3:]}* |" + " |" * (len(header) - 1))
        else:
            out.append("| " + " | ".join(_cells(row, len(header))) + " |")
    runs = [doc["run"] for doc in docs]
    versions = sorted({r["qemu_version"] for r in runs} | {r.get("libvirt_version", "") for r in runs} - {""})
    return "\n".join(out + ["", summary.LEGEND + ".", ""] + [f"- {v}" for v in versions]) + "\n"


def write_summary(path, docs):
    """The Markdown summary for CI job pages: verdicts first, then the table."""
    from reports.html import columns, summary_rows
    lines = ["# qcow2 bitmap conformance", ""]
    for impl, release, ok, counts, failing in summary_rows(columns(docs)):
        verdict = "conformant" if ok else "NOT conformant"
        tally = ", ".join(f"{counts[o]} {o}" for o in results.OUTCOMES)
        lines.append(f"- **{impl}** on qemu {release}: {verdict} ({tally})"
                     + (f"; failing: {', '.join(failing)}" if failing else ""))
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n\n" + render(docs))


def _column(record, run, by_release):
    if not by_release:
        return record["implementation"]
    return f"{record['implementation']}@qemu-{run.get('qemu', '?')}"


def _cells(row, count):
    # Cells are separated by two or more spaces; a cell holds single spaces.
    parts = [p.strip() for p in row.split("  ") if p.strip()]
    return parts + [""] * (count - len(parts))


def main(paths):
    print(render([results.read(p) for p in paths]), end="")


if __name__ == "__main__":
    main(sys.argv[1:])
