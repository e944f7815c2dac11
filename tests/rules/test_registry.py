"""The rule registry is the one list of rules: the docs, checks and catalog agree with it."""

import os
import re

import pytest

from qcow2_conformance.rules import HARDENING, load_rules
from qcow2_conformance.rules.families import BY_NAME
from qcow2_conformance.scenarios import load_catalog

from support import ROOT

RULES = list(load_rules().values())


def documented_rules():
    """(id, text) of every row of docs/rules.md's rule tables, in order."""
    with open(os.path.join(ROOT, "docs", "rules.md"), encoding="utf-8") as f:
        return re.findall(r"^\| `([a-z-]+)` \| (.+) \|$", f.read(), re.MULTILINE)


def test_docs_list_every_rule_in_registry_order_with_its_text():
    assert documented_rules() == [(r.id, r.text) for r in RULES]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_each_check_names_its_rule_id_and_family(rule):
    assert (rule.check.__doc__ or "").startswith(f"{rule.id}: "), rule.check.__name__
    assert rule.family in BY_NAME
    assert re.fullmatch(r"[a-z]+(-[a-z]+)*", rule.id)


def test_ids_are_unique():
    assert len({r.id for r in RULES}) == len(RULES)


def test_every_hardening_check_runs_on_some_scenario_of_the_catalog():
    checks = {r.id for r in RULES if r.judged_on == HARDENING}
    named = {h for s in load_catalog() for h in s.hardening}
    assert named == checks


def test_a_scenario_naming_an_unknown_check_stops_the_run(tools, tmp_path):
    from support import conformance

    (tmp_path / "mine.toml").write_text(
        '[[scenario]]\nname = "x"\nhardening = ["no-such"]\n[[scenario.image]]\nsize = "1M"\n'
    )
    out = conformance(tools, f"--scenarios={tmp_path}")
    lines = [line for line in (out.stdout + out.stderr).splitlines() if line.strip()]
    assert out.rc == 2 and len(lines) == 1, lines
    assert "mine.toml: scenario 'x': field 'hardening': unknown check 'no-such'" in lines[0]


def test_every_hardening_check_has_a_condition_and_no_condition_is_left_over():
    from qcow2_conformance.observe.hardening import CONDITIONS

    assert set(CONDITIONS) == {r.id for r in RULES if r.judged_on == HARDENING}
