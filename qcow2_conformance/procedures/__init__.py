"""The procedures the harness judges, by name: one module each, one object each.

What a procedure is: procedures/base.py. --procedure and a scenario's
`procedure` field name one; everything else gets the object.
"""

from qcow2_conformance.procedures import commit, snapshot

PROCEDURES = {p.name: p for p in (snapshot.PROCEDURE, commit.PROCEDURE)}


def for_scenario(scenario):
    """The procedure scenario is for."""
    return PROCEDURES[scenario.procedure]
