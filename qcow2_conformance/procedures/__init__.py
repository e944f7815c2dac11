"""The procedures the harness judges, by name: one module each, one object each.

What a procedure is: procedures/base.py. --procedure and a scenario's
`procedure` field name one; everything else gets the object.
"""

from qcow2_conformance.procedures import commit, lifecycle, snapshot

PROCEDURES = {p.name: p for p in (snapshot.PROCEDURE, commit.PROCEDURE)}
# What judges a case: its scenario's procedure, or lifecycles for a lifecycle slot.
JUDGED_BY = {**PROCEDURES, lifecycle.PROCEDURE.name: lifecycle.PROCEDURE}


def for_scenario(scenario):
    """The procedure scenario is for (lifecycles, for a lifecycle slot)."""
    return JUDGED_BY[scenario.procedure]
