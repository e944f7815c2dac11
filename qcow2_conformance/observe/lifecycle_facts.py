"""What one backup of a lifecycle showed: plain data for rules/lifecycle.py."""

from dataclasses import dataclass


@dataclass(frozen=True)
class BackupFacts:
    step: int  # the backup's event, counted from 1
    name: str | None  # the checkpoint asked for; None: a full backup was asked for
    expected_valid: bool  # valid at the top on the model (had the procedure been followed)
    held: tuple  # what each real image holds of name, top first: None or (recording, consistent)
    incremental: bool  # taken since name (its real chain is valid), else a full backup
    truth: bytes  # the guest's disk at the backup
    restored: bytes  # what the restore gave
    restored_on: str  # what the restore started from, for the message
