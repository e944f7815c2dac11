"""What changed between two results files: regressions first.

    python3 -m reports.compare OLD.json NEW.json [--markdown PATH]

Lists every (implementation, scenario, rule, subject) whose outcome
changed: regressions (passed -> failed or error), then fixes (failed or
error -> passed), then other changes, then results that appear or
disappear. Prints text, writes Markdown (default: NEW.compare.md beside
NEW), and exits 1 when there is a regression, 0 otherwise.
"""

import argparse
import os
import sys

from qcow2_conformance.reports import results
from qcow2_conformance.rules.outcomes import FINDINGS, PASSED


def keyed(doc):
    return {
        (r["implementation"], r["scenario"], r["rule"], r.get("subject", "")): r
        for r in doc["results"]
    }


def changes(old_doc, new_doc):
    """{section: [(key, old record or None, new record or None)]}, in report order."""
    old, new = keyed(old_doc), keyed(new_doc)
    sections = {
        "regressions": [],
        "fixes": [],
        "other changes": [],
        "appeared": [],
        "disappeared": [],
    }
    for key in sorted(old.keys() | new.keys()):
        before, after = old.get(key), new.get(key)
        if before is None:
            sections["appeared"].append((key, None, after))
        elif after is None:
            sections["disappeared"].append((key, before, None))
        elif before["outcome"] == after["outcome"]:
            continue
        elif before["outcome"] == PASSED and after["outcome"] in FINDINGS:
            sections["regressions"].append((key, before, after))
        elif before["outcome"] in FINDINGS and after["outcome"] == PASSED:
            sections["fixes"].append((key, before, after))
        else:
            sections["other changes"].append((key, before, after))
    return sections


def _label(key):
    impl, scenario, rule, subject = key
    return f"{impl} / {scenario} / {rule}" + (f" [{subject}]" if subject else "")


def _outcome(record):
    return record["outcome"] if record else "absent"


def text(sections, old_doc, new_doc):
    lines = [f"old: {_run_line(old_doc)}", f"new: {_run_line(new_doc)}"]
    for name, rows in sections.items():
        lines.append(f"{name}: {len(rows)}")
        for key, before, after in rows:
            lines.append(f"  {_label(key)}: {_outcome(before)} -> {_outcome(after)}")
            message = (after or before)["message"]
            if message and name != "fixes":
                lines.append(f"      {message[:300]}")
    return "\n".join(lines) + "\n"


def markdown(sections, old_doc, new_doc):
    lines = [
        "# Results compared",
        "",
        f"- old: {_run_line(old_doc)}",
        f"- new: {_run_line(new_doc)}",
        "",
    ]
    for name, rows in sections.items():
        lines.append(f"## {name.capitalize()} ({len(rows)})")
        lines.append("")
        if rows:
            lines += [
                "| implementation | scenario | rule | subject | old | new | message |",
                "|---|---|---|---|---|---|---|",
            ]
            for key, before, after in rows:
                message = (after or before)["message"].replace("|", "\\|").replace("\n", " ")
                lines.append(
                    "| "
                    + " | ".join([*key, _outcome(before), _outcome(after), message[:300]])
                    + " |"
                )
            lines.append("")
    return "\n".join(lines) + "\n"


def _run_line(doc):
    run = doc.get("run", {})
    return ", ".join(
        str(run.get(key, "?")) for key in ("implementation", "qemu_version", "started")
    )


def main(argv=None):
    parser = argparse.ArgumentParser(prog="compare", description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--markdown", help="where to write Markdown (default: NEW.compare.md)")
    args = parser.parse_args(argv)
    try:
        old_doc, new_doc = results.read(args.old), results.read(args.new)
        found = changes(old_doc, new_doc)
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"compare: cannot read results: {e}", file=sys.stderr)
        return 2
    sys.stdout.write(text(found, old_doc, new_doc))
    path = args.markdown or os.path.splitext(args.new)[0] + ".compare.md"
    with open(path, "w", encoding="utf-8") as f:
        f.write(markdown(found, old_doc, new_doc))
    print(f"markdown: {path}")
    return 1 if found["regressions"] else 0


if __name__ == "__main__":
    sys.exit(main())
