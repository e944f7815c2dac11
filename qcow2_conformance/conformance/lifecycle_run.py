"""Carry out a lifecycle's events on a real Disk and judge every backup.

The one executor of events: the state machine (lifecycle_machine.py) calls
step() for each event it draws, and a replay file's events go through the
same path. Each backup is judged by the two lifecycle rules
(rules/lifecycle.py); what they found is kept per rule.

A backup since NAME: lifecycle-backup-possible is judged first, then a
backup application's choice is made on the real images: NAME's chain valid,
an incremental backup restored on the guest's disk when NAME was made;
else a full backup (restored on zeroes), as the contract says.
"""

from qcow2_conformance.conformance.lifecycle_disk import ChainError, Disk
from qcow2_conformance.observe.lifecycle_facts import BackupFacts
from qcow2_conformance.rules import lifecycle as lifecycle_rules
from qcow2_conformance.rules.outcomes import ERROR, FAILED, PASSED
from qcow2_conformance.rules.verdict import Verdict
from qcow2_conformance.scenarios import lifecycle as lc
from qcow2_conformance.scenarios.checkpoints import valid_chain
from qcow2_conformance.scenarios.lifecycle_model import LifecycleModel

BACKUP_POSSIBLE, RESTORE = "lifecycle-backup-possible", "lifecycle-restore"
RULE_IDS = (BACKUP_POSSIBLE, RESTORE)
CHECKS = {BACKUP_POSSIBLE: lifecycle_rules.backup_possible, RESTORE: lifecycle_rules.restore}
KiB = 1024
SIZE, CLUSTER = 4 * KiB * KiB, 64 * KiB


class Stopped(Exception):
    """The tool left the disk so that the lifecycle cannot go on (the message says how)."""


class LifecycleRun:
    """One lifecycle on one Disk: the model beside it, and what each rule found."""

    def __init__(
        self, tools, impl, folder, *, size=SIZE, cluster_size=CLUSTER, timeout=60.0, nbd_tools=None
    ):
        self.folder = folder
        self.disk = Disk(
            tools,
            impl,
            folder,
            size=size,
            cluster_size=cluster_size,
            timeout=timeout,
            nbd_tools=nbd_tools,
        )
        self.model = LifecycleModel(size)
        self.done = []  # the events carried out, in order
        self.skipped = []  # (event, why) of events that could not happen on this disk
        self.found = {rule_id: [] for rule_id in RULE_IDS}
        self.stopped = None  # why the lifecycle could not go on, or None

    def step(self, event):
        """Carry out event; raise Stopped when the tool broke the chain."""
        why = self.model.applies(event)
        if why:
            self.skipped.append((event, why))
            return
        self.done.append(event)
        step = len(self.done)
        disk, model = self.disk, self.model
        try:
            if isinstance(event, lc.Write):
                disk.write(event.offset, event.length, event.pattern)
            elif isinstance(event, lc.Checkpoint):
                disk.checkpoint(event.name, event.granularity)
            elif isinstance(event, lc.ReuseName):
                disk.checkpoint(event.name)
            elif isinstance(event, lc.ForeignSnapshot):
                disk.foreign_snapshot()
            elif isinstance(event, lc.Snapshot):
                before = len(disk.images)
                disk.snapshot()
                model.apply(event, done=len(disk.images) > before)
                return
            elif isinstance(event, lc.Commit):
                before = len(disk.images)
                disk.commit(event.top, event.base)
                model.apply(event, done=len(disk.images) < before)
                return
            elif isinstance(event, lc.Backup):
                self._backup(step, event.name)
                return
        except ChainError as e:
            self.stopped = f"event {step} ({lc.describe(event)}): {e}"
            raise Stopped(self.stopped) from None
        model.apply(event)

    def _backup(self, step, name):
        disk, model = self.disk, self.model
        truth = bytes(model.disk)
        if name is None:
            expected, held = False, ()
        else:
            expected = model.valid(name)
            held = tuple(
                None if name not in image else (image[name].recording, image[name].consistent)
                for image in reversed(disk.bitmaps())
            )
        incremental = name is not None and valid_chain(list(held))
        if incremental:
            backup = disk.backup(name)
            restored = disk.restore(backup, model.truth_at(name))
            restored_on = f"the guest's disk when {name!r} was made"
        else:
            restored = disk.restore(disk.backup(None))
            restored_on = "zeroes"
        facts = BackupFacts(step, name, expected, held, incremental, truth, restored, restored_on)
        for rule_id, check in CHECKS.items():
            self.found[rule_id].extend(check(facts))

    def verdicts(self):
        """{rule id: Verdict} of the lifecycle so far."""
        backups = sum(isinstance(e, lc.Backup) for e in self.done)
        found = {}
        for rule_id in RULE_IDS:
            problems = self.found[rule_id]
            if problems:
                found[rule_id] = Verdict(rule_id, "", FAILED, "; ".join(problems))
            elif self.stopped:
                found[rule_id] = Verdict(rule_id, "", ERROR, f"not evaluated: {self.stopped}")
            else:
                found[rule_id] = Verdict(rule_id, "", PASSED, f"{backups} backups")
        return found

    def close(self):
        self.disk.close()
