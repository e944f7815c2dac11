"""What differs between the procedures the harness judges, and nothing else.

A Procedure says what paths an implementation is given, which files a run
may create beside the chain, and how a run is observed. Chains, copies,
runs, verdicts and reports are the same for every procedure; the rules of a
procedure are the registry's entries with its name (rules.rules_of).
"""

import os
from dataclasses import dataclass

from qcow2_conformance.observe import commit_run, snapshot_run
from qcow2_conformance.scenarios.model import COMMIT, SNAPSHOT

OVERLAY = "overlay.qcow2"


@dataclass(frozen=True)
class Procedure:
    name: str
    paths: object  # (Scenario, BuiltChain) -> the implementation's arguments, in order
    created: tuple  # file names a run may create in the chain's folder (not litter)
    # (tools, Scenario, RunFacts, Baseline, BuiltChain, FolderChanges) -> the facts its rules judge
    observe: object


def _snapshot_paths(scenario, built):
    return (built.active, os.path.join(built.folder, OVERLAY))


def _observe_snapshot(tools, scenario, result, baseline, built, changes):
    return snapshot_run.observe(
        tools,
        result,
        baseline,
        built.paths,
        os.path.join(built.folder, OVERLAY),
        folder_changes=changes,
    )


def _commit_paths(scenario, built):
    """COMMIT_TOP COMMIT_BASE, and ABOVE when an image lies above COMMIT_TOP."""
    paths = built.paths
    marked = (scenario.commit_top, scenario.commit_base, scenario.above)
    return tuple(paths[i] for i in marked if i is not None)


def _observe_commit(tools, scenario, result, baseline, built, changes):
    return commit_run.observe(tools, scenario, result, baseline, built.paths, changes)


PROCEDURES = {
    SNAPSHOT: Procedure(SNAPSHOT, _snapshot_paths, (OVERLAY,), _observe_snapshot),
    # A commit creates nothing: it writes into COMMIT_BASE and re-points ABOVE.
    COMMIT: Procedure(COMMIT, _commit_paths, (), _observe_commit),
}
