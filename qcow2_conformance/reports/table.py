"""The table every report renders: rules by columns, with a verdict per column.

Pure data, built from results records. A column is an implementation, or an
implementation on a qemu release when results of several releases are shown
together, and is of one procedure: results of the snapshot and the commit
procedure shown together make columns of their own, labelled 'implementation
[procedure]', and each procedure's rules their own sections. Rows are rules,
in sections per family (the order and headings of rules.families), in the
registry's order within a section. A cell counts the outcomes of one rule's
records in one column; its text reads passed/total, then the other outcomes:
'7/46 F39' is 7 passed of 46, 39 failed. The terminal table (reports.summary),
Markdown (reports.markdown) and HTML (reports.html) only lay this out.
"""

from collections import Counter
from dataclasses import dataclass

from qcow2_conformance.rules import load_rules
from qcow2_conformance.rules.families import BY_NAME, CONFORMANCE, order
from qcow2_conformance.rules.outcomes import (
    ERROR,
    FAILED,
    FINDINGS,
    OUTCOMES,
    PASSED,
    REFUSED,
    SEVERITY,
    SKIPPED,
)
from qcow2_conformance.scenarios.model import SNAPSHOT

MARKS = ((FAILED, "F"), (REFUSED, "R"), (ERROR, "E"), (SKIPPED, "s"))
LEGEND = (
    "cell: passed/total, then F failed, R refused (exited non-zero, changed nothing),"
    " E error (not evaluated), s skipped"
)


@dataclass(frozen=True)
class Cell:
    """The outcomes of some records: of one rule in one column, or any other group."""

    counts: tuple  # one count per outcome, in the order of OUTCOMES

    @classmethod
    def of(cls, records):
        found = Counter(r["outcome"] for r in records)
        return cls(tuple(found[o] for o in OUTCOMES))

    def count(self, outcome):
        return self.counts[OUTCOMES.index(outcome)]

    @property
    def total(self):
        return sum(self.counts)

    @property
    def worst(self):
        """The outcome a cell standing for several verdicts shows; None for no records."""
        return next((o for o in SEVERITY if self.count(o)), None)

    @property
    def text(self):
        marks = [f"{mark}{self.count(o)}" for o, mark in MARKS if self.count(o)]
        return " ".join([f"{self.count(PASSED)}/{self.total}"] + marks)


@dataclass(frozen=True)
class Column:
    implementation: str
    release: str  # the qemu release, '' when the records do not say
    label: str  # what a header shows: unique among the table's columns
    procedure: str = SNAPSHOT  # the procedure its records judge


@dataclass(frozen=True)
class Row:
    rule: str
    cells: tuple  # one Cell per column


@dataclass(frozen=True)
class Section:
    family: str
    heading: str
    rows: tuple


@dataclass(frozen=True)
class Verdict:
    """One column's summary: conformant unless a rule of a conformance family has a finding."""

    column: Column
    cell: Cell  # every record of the column
    failing: tuple  # conformance rules with a failed or error record, sorted
    refused: tuple = ()  # scenarios the implementation refused, changing nothing, sorted

    @property
    def conformant(self):
        return not self.failing and not self.refused


@dataclass(frozen=True)
class Table:
    columns: tuple
    sections: tuple
    verdicts: tuple  # one per column, in the same order
    legend: str = LEGEND


def release_of(run):
    """The qemu release a run asked for, or the version of the qemu-img it found."""
    asked = run.get("qemu")
    if asked not in (None, "PATH"):
        return str(asked)
    return run.get("qemu_version", "?").split(" (")[0].replace("qemu-img version ", "")


def procedure_of(run):
    """The procedure a run judged; results files older than the commit procedure: snapshot."""
    return run.get("procedure", SNAPSHOT)


def from_records(records, procedure=SNAPSHOT):
    """The table of one run's records: one column per implementation."""
    grouped = {}
    for record in records:
        grouped.setdefault(record["implementation"], []).append(record)
    return build([(Column(impl, "", impl, procedure), rows) for impl, rows in grouped.items()])


def from_docs(docs):
    """The table of results files: see columns()."""
    return build(columns(docs))


def columns(docs):
    """[(Column, records)] of results files: one column per implementation, qemu release
    and procedure, labelled implementation@qemu-RELEASE when the files hold several
    releases, and '... [PROCEDURE]' when they hold several procedures."""
    grouped = {}
    for doc in docs:
        release, procedure = release_of(doc["run"]), procedure_of(doc["run"])
        for record in doc["results"]:
            key = (record["implementation"], release, procedure)
            grouped.setdefault(key, []).append(record)
    releases = len({release for _, release, _ in grouped}) > 1
    procedures = len({procedure for _, _, procedure in grouped}) > 1
    return [
        (
            Column(
                impl,
                release,
                (f"{impl}@qemu-{release}" if releases else impl)
                + (f" [{procedure}]" if procedures else ""),
                procedure,
            ),
            records,
        )
        for (impl, release, procedure), records in grouped.items()
    ]


def build(columns):
    """The table of [(Column, records)], columns in the order given."""
    by_rule = {}
    families = {}
    for index, (_, records) in enumerate(columns):
        for record in records:
            by_rule.setdefault((record["rule"], index), []).append(record)
            families.setdefault(record["family"], {})[record["rule"]] = None
    known = list(load_rules())
    sections = []
    for family in sorted(families, key=lambda name: (order(name), name)):
        rules = sorted(
            families[family],
            key=lambda rule: (known.index(rule) if rule in known else len(known), rule),
        )
        rows = tuple(
            Row(
                rule,
                tuple(Cell.of(by_rule.get((rule, index), [])) for index in range(len(columns))),
            )
            for rule in rules
        )
        sections.append(Section(family, _heading(family), rows))
    verdicts = tuple(
        Verdict(column, Cell.of(records), _failing(records), refused_scenarios(records))
        for column, records in columns
    )
    return Table(tuple(column for column, _ in columns), tuple(sections), verdicts)


def _heading(family):
    return BY_NAME[family].heading if family in BY_NAME else f"{family} rules"


def _failing(records):
    """The conformance rules that failed or were not evaluated; a refusal is counted apart."""
    return tuple(
        sorted(
            {
                r["rule"]
                for r in records
                if r["outcome"] in FINDINGS and r["outcome"] != REFUSED
                if r["family"] in CONFORMANCE
            }
        )
    )


def refused_scenarios(records):
    """The scenarios of records that were refused cleanly, sorted."""
    return tuple(sorted({r["scenario"] for r in records if r["outcome"] == REFUSED}))
