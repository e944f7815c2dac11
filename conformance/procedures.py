"""What differs between the procedures the harness judges, and nothing else.

A Procedure says what paths an implementation is given, which files a run
may create beside the chain, and how a run is observed. Chains, copies,
runs, verdicts and reports are the same for every procedure; the rules of a
procedure are the registry's entries with its name (rules.rules_of).
"""

import os
from dataclasses import dataclass

from observe import run as snapshot_run
from scenarios.model import SNAPSHOT

OVERLAY = "overlay.qcow2"


@dataclass(frozen=True)
class Procedure:
    name: str
    paths: object  # (BuiltChain) -> the implementation's arguments, in order
    created: tuple  # file names a run may create in the chain's folder (not litter)
    observe: object  # (tools, RunFacts, Baseline, BuiltChain, FolderChanges) -> Observation


def _snapshot_paths(built):
    return (built.active, os.path.join(built.folder, OVERLAY))


def _observe_snapshot(tools, result, baseline, built, changes):
    return snapshot_run.observe(
        tools,
        result,
        baseline,
        built.paths,
        os.path.join(built.folder, OVERLAY),
        folder_changes=changes,
    )


PROCEDURES = {
    SNAPSHOT: Procedure(SNAPSHOT, _snapshot_paths, (OVERLAY,), _observe_snapshot),
}
