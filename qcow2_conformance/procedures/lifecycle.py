"""Lifecycles of one disk (docs/lifecycles.md): a kind of run, not a procedure of its own.

A lifecycle's events are runs of the two procedures by the implementation
under test (procedures/snapshot.py, procedures/commit.py, called by
conformance/lifecycle_disk.py), guest writes, checkpoints and backups. This
object stands where a run's procedure stands (Settings.procedure, the
results' run.procedure, the verdict line): its name, its rules (the
registry's lifecycle entries) and who can be judged on lifecycles, an
implementation that takes snapshots. It is never run on a scenario of the
catalog and draws no chains: conformance/lifecycles.py runs lifecycles.
"""

from qcow2_conformance.procedures.base import Procedure
from qcow2_conformance.procedures.snapshot import Snapshots
from qcow2_conformance.scenarios.lifecycle import LIFECYCLE


class Lifecycle(Procedure):
    name = LIFECYCLE
    # A lifecycle needs snapshots; commits come too when the implementation has them.
    implemented_by = Snapshots


PROCEDURE = Lifecycle()
