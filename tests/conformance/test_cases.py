"""Test ids: every text of a scenario or subject survives pytest unchanged, and is found again."""

import pytest

from qcow2_conformance.conformance.cases import id_safe, param_id


@pytest.mark.parametrize(
    "text",
    [
        "plain:id",
        "checkpoint 'it''s' after",
        "back\\slash",
        "line1\nline2",
        "sauvegarde-été 备份 😀",
        "100%",
    ],
)
def test_test_ids_pass_through_pytest_unchanged(text):
    safe = id_safe(text)
    assert safe.isascii() and safe.isprintable() and "\\" not in safe
    # %XX keeps ids apart: no two texts share one.
    assert id_safe(text + "%") != id_safe(text + "%25")
    assert param_id(f"conformance/test_rules.py::test_rule[{safe}]") == safe


def test_param_id_ignores_other_tests():
    assert param_id("tests/test_x.py::test_y[1]") is None
