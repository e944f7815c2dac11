"""The commit procedure: COMMIT_TOP's data and checkpoints committed into COMMIT_BASE.

Its scenarios mark COMMIT_TOP and COMMIT_BASE (an image's `role`; the
catalog's marks and their checks are scenarios/commit_roles.py); ABOVE is
the image right above COMMIT_TOP, none for an active commit. An
implementation runs it with commit(tools, COMMIT_TOP, COMMIT_BASE, ABOVE or
None); a run creates nothing (it writes into COMMIT_BASE and re-points
ABOVE); observe/commit_run.py observes it; its rules are the registry's
commit entries. Drawn shapes a careful implementation refuses are not kept
(scenarios/commit_shapes.py).
"""

from typing import Protocol, runtime_checkable

from qcow2_conformance.observe import commit_run
from qcow2_conformance.procedures.base import Procedure
from qcow2_conformance.scenarios import filters
from qcow2_conformance.scenarios.model import COMMIT


@runtime_checkable
class Commits(Protocol):
    """An implementation that commits an image of a chain into one below it."""

    def commit(self, tools, top, base, above, *, cwd, timeout):
        """Commit TOP into BASE, carry the checkpoints, re-point ABOVE (None: an
        active commit): RunFacts."""


class Commit(Procedure):
    name = COMMIT
    implemented_by = Commits
    created = ()
    drawn_prefix = "gen-commit"

    def run(self, impl, tools, scenario, built, *, cwd, timeout):
        paths = built.paths
        above = None if scenario.above is None else paths[scenario.above]
        return impl.commit(
            tools,
            paths[scenario.commit_top],
            paths[scenario.commit_base],
            above,
            cwd=cwd,
            timeout=timeout,
        )

    def observe(self, tools, scenario, result, baseline, built, changes):
        return commit_run.observe(tools, scenario, result, baseline, built.paths, changes)

    def chains(self):
        from qcow2_conformance.scenarios.strategies import commit_chains  # hypothesis: drawing only

        return commit_chains()

    def refusal(self, scenario):
        return filters.refusal(scenario) or filters.commit_refusal(scenario)


PROCEDURE = Commit()
