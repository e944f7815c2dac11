"""Lifecycle rules (docs/rules.md, "Lifecycles"): judged on each backup of a lifecycle.

Each check takes the BackupFacts of one backup and returns what did not hold.
"""

from qcow2_conformance.scenarios.checkpoints import valid_chain


def why_invalid(held):
    """The first chain rule held (top first) breaks, in words, or ''."""
    if not held or held[0] is None:
        return "the top image lacks it (chain-top)"
    run = len(held) if None not in held else held.index(None)
    if any(h is not None for h in held[run:]):
        return f"image {run} from the top lacks it while a lower one holds it (chain-contiguous)"
    if not all(recording for recording, _ in held[:run]):
        return "a bitmap of its chain is not recording (chain-recording)"
    if not all(consistent for _, consistent in held[:run]):
        return "a bitmap of its chain is inconsistent (chain-consistent)"
    return ""


def backup_possible(facts):
    """lifecycle-backup-possible: a checkpoint that would be valid at the top, had every
    snapshot and commit since it followed the procedure, is valid at the top."""
    if facts.name is None or not facts.expected_valid or valid_chain(list(facts.held)):
        return []
    return [
        f"event {facts.step}: backup since checkpoint {facts.name!r} refused:"
        f" {why_invalid(list(facts.held))}, although the procedure would have kept it valid"
    ]


def first_difference(truth, restored):
    """(offset, length) of the first run of bytes where restored differs from truth, or None."""
    if truth == restored:
        return None
    start = next(i for i, (a, b) in enumerate(zip(truth, restored)) if a != b)
    end = start
    while end < len(truth) and truth[end] != restored[end]:
        end += 1
    return start, end - start


def restore(facts):
    """lifecycle-restore: a backup restored on the one it is based on equals the guest's disk."""
    if len(facts.truth) != len(facts.restored):
        return [
            f"event {facts.step}: the restore has {len(facts.restored)} bytes, the disk"
            f" {len(facts.truth)}"
        ]
    found = first_difference(facts.truth, facts.restored)
    if found is None:
        return []
    offset, length = found
    what = (
        f"incremental backup since checkpoint {facts.name!r}"
        if facts.incremental
        else "full backup"
    )
    return [
        f"event {facts.step}: {what}, restored on {facts.restored_on}, differs from the guest's"
        f" disk first at offset {offset} (0x{offset:x}), {length} bytes"
    ]
