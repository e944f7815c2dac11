"""The table every report renders: rules by columns, with a verdict per column.

Pure data, built from results records. A column is an implementation, or
an implementation on a qemu release when results of several releases are
shown together. Rows are rules, in sections per family (the order and
headings of rules.families), in the registry's order within a section. A
cell counts the outcomes of one rule's records in one column; its text
reads passed/total, then the other outcomes: '7/46 F39' is 7 passed of 46,
39 failed. The terminal table (reports.summary), Markdown (reports.markdown)
and HTML (reports.html) only lay this out.
"""

from collections import Counter
from dataclasses import dataclass

from rules import load_rules
from rules.families import BY_NAME, CONFORMANCE, order
from rules.outcomes import ERROR, FAILED, FINDINGS, OUTCOMES, PASSED, SEVERITY, SKIPPED

MARKS = ((FAILED, "F"), (ERROR, "E"), (SKIPPED, "s"))
LEGEND = "cell: passed/total, then F failed, E error (not evaluated), s skipped"


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
    """One column's summary: conformant unless a snapshot or chain rule has a finding."""

    column: Column
    cell: Cell  # every record of the column
    failing: tuple  # conformance rules with a failed or error record, sorted

    @property
    def conformant(self):
        return not self.failing


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


def from_records(records):
    """The table of one run's records: one column per implementation."""
    grouped = {}
    for record in records:
        grouped.setdefault(record["implementation"], []).append(record)
    return build([(Column(impl, "", impl), rows) for impl, rows in grouped.items()])


def from_docs(docs):
    """The table of results files: see columns()."""
    return build(columns(docs))


def columns(docs):
    """[(Column, records)] of results files: one column per implementation and qemu
    release, labelled implementation@qemu-RELEASE when the files hold several releases."""
    grouped = {}
    for doc in docs:
        release = release_of(doc["run"])
        for record in doc["results"]:
            grouped.setdefault((record["implementation"], release), []).append(record)
    several = len({release for _, release in grouped}) > 1
    return [
        (Column(impl, release, f"{impl}@qemu-{release}" if several else impl), records)
        for (impl, release), records in grouped.items()
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
        Verdict(column, Cell.of(records), _failing(records)) for column, records in columns
    )
    return Table(tuple(column for column, _ in columns), tuple(sections), verdicts)


def _heading(family):
    return BY_NAME[family].heading if family in BY_NAME else f"{family} rules"


def _failing(records):
    return tuple(
        sorted(
            {r["rule"] for r in records if r["outcome"] in FINDINGS and r["family"] in CONFORMANCE}
        )
    )
