"""reports.table, the model every report renders, on hand-written records."""

import pytest

from qcow2_conformance.reports import markdown, table
from qcow2_conformance.rules import load_rules
from qcow2_conformance.rules.families import FAMILIES

from support import record


def doc(qemu, *records, version=None, procedure=None):
    return {
        "run": {
            "implementation": "x",
            "qemu": qemu,
            "qemu_version": version or f"qemu-img version {qemu}",
            **({"procedure": procedure} if procedure else {}),
        },
        "results": list(records),
    }


@pytest.mark.parametrize(
    "outcomes, text, worst",
    [
        ([], "0/0", None),
        (["passed"], "1/1", "passed"),
        (["passed"] * 7 + ["failed"] * 39, "7/46 F39", "failed"),
        (["skipped", "error", "passed", "failed"], "1/4 F1 E1 s1", "failed"),
        (["skipped", "passed", "error"], "1/3 E1 s1", "error"),
        (["skipped", "skipped"], "0/2 s2", "skipped"),
        (["passed"] * 9 + ["refused"] * 18, "9/27 R18", "refused"),
        (["refused", "error", "failed"], "0/3 F1 R1 E1", "failed"),
    ],
)
def test_a_cell_counts_each_outcome(outcomes, text, worst):
    cell = table.Cell.of([record("a", "completes", o) for o in outcomes])
    assert (cell.text, cell.worst, cell.total) == (text, worst, len(outcomes))


def test_families_come_in_the_order_of_rules_families_with_its_headings():
    # Records in the reverse order, and a family the harness does not know.
    records = [
        record("a", "made-up", "passed", family="mystery"),
        record("a", "lifecycle-restore", "failed", family="lifecycle"),
        record("a", "commit-data", "passed", family="commit"),
        record("a", "qemu-img-agrees", "passed", family="cross-check"),
        record("a", "no-clobber", "passed", family="hardening"),
        record("a", "chain-top", "passed", family="chain"),
        record("a", "completes", "passed"),
    ]
    sections = table.from_records(records).sections
    assert [(s.family, s.heading) for s in sections] == (
        [(f.name, f.heading) for f in FAMILIES] + [("mystery", "mystery rules")]
    )


def test_rows_follow_the_order_of_load_rules():
    rules = load_rules()
    # Every rule, in the reverse of the registry's order, and one it does not know.
    records = [record("a", "not-registered", "passed")] + [
        record("a", rule.id, "passed", family=rule.family) for rule in reversed(rules.values())
    ]
    for section in table.from_records(records).sections:
        expected = [r.id for r in rules.values() if r.family == section.family]
        if section.family == "snapshot":
            expected.append("not-registered")
        assert [row.rule for row in section.rows] == expected


@pytest.mark.parametrize(
    "docs, labels",
    [
        (
            [doc("7.2", record("a", "completes", "passed"), record("b", "completes", "passed"))],
            ["a", "b"],
        ),
        (
            [
                doc("5.2", record("a", "completes", "passed")),
                doc("10.0", record("a", "completes", "passed"), record("b", "completes", "passed")),
            ],
            ["a@qemu-5.2", "a@qemu-10.0", "b@qemu-10.0"],
        ),
        # A run on the qemu found on PATH is named by its version.
        (
            [
                doc(
                    "PATH",
                    record("a", "completes", "passed"),
                    version="qemu-img version 7.2.22 (x)",
                ),
                doc("10.0", record("a", "completes", "passed")),
            ],
            ["a@qemu-7.2.22", "a@qemu-10.0"],
        ),
    ],
)
def test_a_column_per_implementation_and_release_when_there_are_several(docs, labels):
    assert [c.label for c in table.from_docs(docs).columns] == labels


def test_results_of_two_procedures_keep_apart_in_columns_and_sections():
    snapshot = doc("7.2", record("a", "completes", "passed"))
    commit = doc(
        "7.2",
        record("a", "commit-completes", "passed", family="commit"),
        record("a", "commit-data", "failed", family="commit"),
        procedure="commit",
    )
    tab = table.from_docs([snapshot, commit])
    assert [(c.label, c.procedure) for c in tab.columns] == [
        ("a [snapshot]", "snapshot"),
        ("a [commit]", "commit"),
    ]
    assert [s.family for s in tab.sections] == ["snapshot", "commit"]
    assert [v.failing for v in tab.verdicts] == [(), ("commit-data",)]
    assert [row.cells[0].text for row in tab.sections[1].rows] == ["0/0", "0/0"]
    lines = markdown.verdicts(tab)
    assert lines[0].startswith("- **a** on qemu 7.2, snapshot procedure: conformant")
    assert lines[1].startswith("- **a** on qemu 7.2, commit procedure: NOT conformant")


def test_a_column_is_conformant_unless_a_snapshot_or_chain_rule_has_a_finding():
    records = [
        record("good", "completes", "passed"),
        record("good", "no-clobber", "failed", family="hardening"),
        record("good", "qemu-img-agrees", "error", family="cross-check"),
        record("good", "chain-top", "skipped", family="chain"),
        record("bad", "completes", "passed"),
        record("bad", "same-granularity", "failed"),
        record("bad", "chain-top", "error", family="chain"),
        record("bad", "carry-recording", "failed"),
    ]
    good, bad = table.from_records(records).verdicts
    assert (good.column.label, good.conformant, good.failing) == ("good", True, ())
    assert good.cell.counts == (1, 1, 0, 1, 1)
    assert (bad.column.label, bad.conformant) == ("bad", False)
    assert bad.failing == ("carry-recording", "chain-top", "same-granularity")
    assert bad.cell.text == "1/4 F2 E1"


def test_a_refusal_is_not_conformant_and_counted_apart_from_the_failing_rules():
    records = [
        record("ovirt", "commit-completes", "refused", family="commit", scenario="deep"),
        record("ovirt", "commit-data", "skipped", family="commit", scenario="deep"),
        record("ovirt", "commit-completes", "passed", family="commit", scenario="direct"),
    ]
    (verdict,) = table.from_records(records, "commit").verdicts
    assert (verdict.conformant, verdict.failing, verdict.refused) == (False, (), ("deep",))
    (line,) = markdown.verdicts(table.from_records(records, "commit"))
    assert line.endswith(
        "NOT conformant (1 passed, 0 failed, 1 refused, 0 error, 1 skipped);"
        " refused 1 scenario, changing nothing: deep"
    )
