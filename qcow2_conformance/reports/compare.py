"""What changed between two results files: regressions first.

    qcow2-report OLD.json NEW.json [--markdown PATH]

Lists every (implementation, scenario, rule, subject) whose outcome
changed: regressions (passed -> failed, refused or error), then fixes
(failed, refused or error -> passed), then other changes, then results that appear or
disappear. Prints text, writes Markdown (default: NEW.compare.md beside
NEW), and exits 1 when there is a regression, 0 otherwise.

A tool upgraded at a new path is the same tool: records are matched by
their label (qcow2-conformance --label) when both files have one, by
(scenario, rule, subject) alone when each file judged one implementation,
and by implementation otherwise.
"""

import argparse
import os
import sys

from qcow2_conformance.reports import results
from qcow2_conformance.rules.outcomes import FINDINGS, PASSED

# How records of the two files are matched (matching()).
BY_LABEL, BY_ONE_IMPLEMENTATION, BY_IMPLEMENTATION = "label", "one implementation", "implementation"


def matching(old_doc, new_doc):
    """BY_LABEL when every record of both files has a label, BY_ONE_IMPLEMENTATION
    when each file judged one implementation, else BY_IMPLEMENTATION."""
    docs = (old_doc, new_doc)
    if all(r.get("label") for doc in docs for r in doc["results"]):
        return BY_LABEL
    if all(len(implementations(doc)) == 1 for doc in docs):
        return BY_ONE_IMPLEMENTATION
    return BY_IMPLEMENTATION


def implementations(doc):
    return sorted({r["implementation"] for r in doc["results"]})


def keyed(doc, by=BY_IMPLEMENTATION, name=None):
    """{(who, scenario, rule, subject): record}; who is the label, the implementation,
    or name (BY_ONE_IMPLEMENTATION: the same for both files)."""

    def who(record):
        if by == BY_LABEL:
            return record["label"]
        return name if by == BY_ONE_IMPLEMENTATION else record["implementation"]

    return {(who(r), r["scenario"], r["rule"], r.get("subject", "")): r for r in doc["results"]}


def changes(old_doc, new_doc):
    """{section: [(key, old record or None, new record or None)]}, in report order."""
    by = matching(old_doc, new_doc)
    name = (implementations(new_doc) or ["?"])[0]
    old, new = keyed(old_doc, by, name), keyed(new_doc, by, name)
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


def matched_by(old_doc, new_doc):
    """The line saying how records were matched."""
    by = matching(old_doc, new_doc)
    if by == BY_ONE_IMPLEMENTATION:
        old, new = implementations(old_doc)[0], implementations(new_doc)[0]
        if old != new:
            return (
                "matched by: scenario, rule and subject"
                f" (one implementation each: {old} then {new})"
            )
    return f"matched by: {by}"


def text(sections, old_doc, new_doc):
    lines = [
        f"old: {_run_line(old_doc)}",
        f"new: {_run_line(new_doc)}",
        matched_by(old_doc, new_doc),
    ]
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
        f"- {matched_by(old_doc, new_doc)}",
        "",
    ]
    who = "label" if matching(old_doc, new_doc) == BY_LABEL else "implementation"
    for name, rows in sections.items():
        lines.append(f"## {name.capitalize()} ({len(rows)})")
        lines.append("")
        if rows:
            lines += [
                f"| {who} | scenario | rule | subject | old | new | message |",
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
    fields = [str(run.get(key, "?")) for key in ("implementation", "qemu_version", "started")]
    labels = sorted(set(run.get("labels", {}).values()))
    return ", ".join(fields + [f"label {', '.join(labels)}"] * bool(labels))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="qcow2-report", description=__doc__.splitlines()[0])
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
