"""The verdict a person reads at the end of a run: what failed, why, in few lines.

Pure text from results records (reports/results.py). Four sections, each
one line per finding:

- failed: one line per conformance rule and scenario that failed, with its reason;
- refused: one line per implementation that refused scenarios, changing
  nothing: how many, which when they fit, and what it said (or what its
  messages share);
- not evaluated: one line per scenario and cause, naming the rules it left
  unjudged (a run that did not complete leaves most of its rules so);
- advisory: one line per advisory rule and scenario that failed (hardening
  checks, the cross-check, the commit algorithm's limits).

A line never wraps a message over several: it is cut at the width given,
and the results file keeps every word.
"""

import os
from dataclasses import dataclass

from qcow2_conformance.rules import load_rules
from qcow2_conformance.rules.exit_status import REFUSED_PREFIX
from qcow2_conformance.rules.families import CONFORMANCE
from qcow2_conformance.rules.outcomes import ERROR, FAILED, REFUSED

NOT_EVALUATED = "not evaluated: "


@dataclass(frozen=True)
class Sections:
    failed: tuple  # lines
    not_evaluated: tuple
    advisory: tuple
    refused: tuple = ()


def sections(records, width=100):
    """Sections of records; lines at most width characters long."""
    several = len({r["implementation"] for r in records}) > 1
    failed = [r for r in records if r["outcome"] == FAILED]
    return Sections(
        tuple(_failures([r for r in failed if r["family"] in CONFORMANCE], several, width)),
        tuple(_unjudged([r for r in records if r["outcome"] == ERROR], several, width)),
        tuple(_failures([r for r in failed if r["family"] not in CONFORMANCE], several, width)),
        tuple(_refusals([r for r in records if r["outcome"] == REFUSED], width)),
    )


def _refusals(records, width):
    """One line per implementation: 'IMPL  refused N scenarios (NAMES): what it said'.

    The names are left out when they leave no room for what it said; messages that
    differ (a path, a volume id) are shown by what they share, then '...'.
    """
    grouped = {}
    for r in records:
        grouped.setdefault(r["implementation"], {})[r["scenario"]] = _one_line(
            r["message"]
        ).removeprefix(REFUSED_PREFIX)
    lines = []
    for impl, said in grouped.items():
        names = sorted(said)
        what = _shared(set(said.values()))
        head = f"{impl}  refused {len(names)} scenario{'s' if len(names) > 1 else ''}"
        named = f"{head} ({', '.join(names)}): "
        # The names when they leave room for the start of what it said.
        line = named + what if len(named) + min(len(what), 40) <= width else f"{head}: {what}"
        lines.append(_cut(line, width))
    return lines


def _shared(messages):
    """The one message, or what all of them start with (to a word's end), then '...'."""
    if len(messages) == 1:
        return next(iter(messages))
    common = os.path.commonprefix(sorted(messages))
    cut = max(common.rfind(" "), common.rfind(":") + 1)
    return common[:cut].rstrip() + " ..." if cut > 0 else f"{len(messages)} different messages"


def _failures(records, several, width):
    """One line per (implementation, rule, scenario): 'RULE  SCENARIO: reason'."""
    grouped = {}
    for r in sorted(records, key=_rule_order):
        grouped.setdefault((r["implementation"], r["rule"], r["scenario"]), []).append(r)
    rule_width = max((len(rule) for _, rule, _ in grouped), default=0)
    lines = []
    for (impl, rule, scenario), found in grouped.items():
        reason = "; ".join(
            f"{r['subject']}: {r['message']}" if r.get("subject") else r["message"] for r in found
        )
        who = f"{impl}: " if several else ""
        head = f"{who}{rule:<{rule_width}}  {scenario}: "
        lines.append(_cut(head + _one_line(reason), width))
    return lines


def _unjudged(records, several, width):
    """One line per (implementation, scenario, cause): the rules it left unjudged."""
    grouped = {}
    for r in sorted(records, key=_rule_order):
        cause = _one_line(r["message"]).removeprefix(NOT_EVALUATED)
        grouped.setdefault((r["implementation"], r["scenario"], cause), {})[r["rule"]] = r["family"]
    scenario_width = max((len(scenario) for _, scenario, _ in grouped), default=0)
    lines = []
    for (impl, scenario, cause), rules in grouped.items():
        names = list(rules)
        what = f"{len(names)} rules" if len(names) > 1 else names[0]
        what += " not evaluated"
        if not any(family in CONFORMANCE for family in rules.values()):
            what += " (advisory)"
        who = f"{impl}: " if several else ""
        lines.append(_cut(f"{who}{scenario:<{scenario_width}}  {what}: {cause}", width))
    return lines


def _rule_order(record):
    known = list(load_rules())
    rule = record["rule"]
    return (
        record["implementation"],
        known.index(rule) if rule in known else len(known),
        rule,
        record["scenario"],
    )


def _one_line(text):
    """text on one line: its lines joined by ' | ', runs of spaces as one."""
    return " | ".join(" ".join(part.split()) for part in text.splitlines() if part.strip())


def _cut(line, width):
    return line if len(line) <= width else line[: width - 3] + "..."
