"""The external snapshot procedure: OVERLAY on top of ACTIVE, the recording bitmaps carried.

An implementation runs it with snapshot(tools, ACTIVE, OVERLAY); a run may
create OVERLAY in the chain's folder; observe/snapshot_run.py observes it;
its rules are the registry's snapshot, chain, hardening and cross-check
entries; it has no roles to mark (the chain's top is ACTIVE). The hardening
checks (observe/hardening.py) call snapshot() themselves, under their
adverse conditions.
"""

import os
from typing import Protocol, runtime_checkable

from qcow2_conformance.observe import snapshot_run
from qcow2_conformance.procedures.base import Procedure
from qcow2_conformance.scenarios.model import SNAPSHOT

OVERLAY = "overlay.qcow2"


@runtime_checkable
class Snapshots(Protocol):
    """An implementation that takes external snapshots."""

    def snapshot(self, tools, active, overlay, *, cwd, timeout):
        """Create OVERLAY on top of ACTIVE, carrying its bitmaps: RunFacts."""


class Snapshot(Procedure):
    name = SNAPSHOT
    implemented_by = Snapshots
    created = (OVERLAY,)
    drawn_prefix = "gen"

    def run(self, impl, tools, scenario, built, *, cwd, timeout):
        overlay = os.path.join(built.folder, OVERLAY)
        return impl.snapshot(tools, built.active, overlay, cwd=cwd, timeout=timeout)

    def observe(self, tools, scenario, result, baseline, built, changes):
        return snapshot_run.observe(
            tools,
            result,
            baseline,
            built.paths,
            os.path.join(built.folder, OVERLAY),
            folder_changes=changes,
        )

    def chains(self):
        from qcow2_conformance.scenarios.strategies import chains  # hypothesis: drawing only

        return chains()


PROCEDURE = Snapshot()
