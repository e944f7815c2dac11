"""Every rule the harness judges, one entry each, in the order of every report.

An entry is the whole rule: its id, family, procedure, what must hold (the
text docs/rules.md shows, checked by tests/rules/test_registry.py), what it is
judged on, and its check, a pure function over facts whose docstring names
the id. Order, test ids, report columns and the docs tables all come from here.
"""

from dataclasses import dataclass

from qcow2_conformance.rules import (
    CHECKPOINT,
    HARDENING,
    IMAGE,
    SCENARIO,
    backup,
    chain,
    commit,
    crosscheck,
    hardening,
    lifecycle,
    snapshot,
)
from qcow2_conformance.rules.families import BY_NAME
from qcow2_conformance.scenarios.lifecycle import LIFECYCLE
from qcow2_conformance.scenarios.model import COMMIT, SNAPSHOT


@dataclass(frozen=True)
class Rule:
    id: str
    family: str  # a name of rules.families
    procedure: str
    judged_on: str  # SCENARIO, CHECKPOINT, IMAGE or HARDENING
    text: str  # what must hold, in the project's words
    check: object
    needs_overlay: bool = True  # an error, not a failure, when OVERLAY cannot be read
    needs_completion: bool = True  # an error, not a failure, when completes failed
    completion: bool = False  # the procedure's completes rule (rules.completes_rule)

    @property
    def advisory(self):
        return BY_NAME[self.family].advisory


def _snapshot(rule_id, text, check, **flags):
    return Rule(rule_id, "snapshot", SNAPSHOT, SCENARIO, text, check, **flags)


def _chain(rule_id, text, check):
    return Rule(rule_id, "chain", SNAPSHOT, CHECKPOINT, text, check)


def _hardening(rule_id, text, check):
    return Rule(rule_id, "hardening", SNAPSHOT, HARDENING, text, check)


def _commit(rule_id, text, check, **flags):
    # A commit makes no OVERLAY: what it needs of COMMIT_BASE, commit-completes checks.
    return Rule(rule_id, "commit", COMMIT, SCENARIO, text, check, needs_overlay=False, **flags)


def _lifecycle(rule_id, text, check):
    # Judged on the backups of a lifecycle run (conformance/lifecycle_run.py), not on a scenario.
    return Rule(rule_id, "lifecycle", LIFECYCLE, SCENARIO, text, check, needs_overlay=False)


RULES = (
    _snapshot(
        "completes",
        "the implementation exits 0 and OVERLAY exists",
        snapshot.completes,
        needs_overlay=False,
        completion=True,
    ),
    _snapshot(
        "overlay-backing",
        "OVERLAY is a qcow2 v3 image; its backing file resolves to"
        " ACTIVE; its recorded backing format is ACTIVE's format; its virtual size is"
        " ACTIVE's",
        snapshot.overlay_backing,
        needs_overlay=False,
    ),
    _snapshot(
        "carry-recording",
        "each carried bitmap of ACTIVE has a bitmap in OVERLAY with"
        " exactly the same name, byte for byte",
        snapshot.carry_recording,
    ),
    _snapshot(
        "same-granularity",
        "each carried bitmap has, in OVERLAY, the granularity it has in ACTIVE",
        snapshot.same_granularity,
    ),
    _snapshot(
        "overlay-recording", "every bitmap in OVERLAY is recording", snapshot.overlay_recording
    ),
    _snapshot(
        "overlay-consistent", "no bitmap in OVERLAY is inconsistent", snapshot.overlay_consistent
    ),
    _snapshot(
        "skip-disabled",
        "OVERLAY has no bitmap with the name of a disabled bitmap of ACTIVE",
        snapshot.skip_disabled,
    ),
    _snapshot(
        "skip-inconsistent",
        "OVERLAY has no bitmap with the name of an inconsistent bitmap of ACTIVE",
        snapshot.skip_inconsistent,
    ),
    _snapshot(
        "no-foreign-bitmaps",
        "OVERLAY has no bitmap whose name ACTIVE lacks (such as one"
        " that exists only lower in the chain)",
        snapshot.no_foreign_bitmaps,
    ),
    _snapshot(
        "overlay-fresh",
        "OVERLAY's bitmaps have no dirty bits and OVERLAY maps no guest"
        " data of its own, so the guest sees exactly what ACTIVE holds",
        snapshot.overlay_fresh,
    ),
    _snapshot(
        "active-untouched",
        "ACTIVE and every image below it stay the same files, none deleted, truncated or"
        " replaced, and keep their bitmaps (names, flags, granularity, dirty bits), their guest"
        " data and their backing links",
        snapshot.active_untouched,
        needs_overlay=False,
    ),
    _snapshot(
        "image-check",
        "`qemu-img check` finds no corruption and no leaked cluster in OVERLAY",
        snapshot.image_check,
    ),
    _snapshot(
        "backup-ready",
        "after the snapshot, writes through OVERLAY set bits in its"
        " carried bitmaps; every checkpoint whose bitmap chain was valid before is still"
        " valid; and that chain's bitmaps together cover every cluster written since the"
        " checkpoint, before and after the snapshot",
        backup.backup_ready,
    ),
    _chain("chain-top", "TOP holds a bitmap named NAME", chain.chain_top),
    _chain(
        "chain-contiguous",
        "the images holding NAME form one unbroken run starting at TOP",
        chain.chain_contiguous,
    ),
    _chain("chain-recording", "every NAME bitmap in that run is recording", chain.chain_recording),
    _chain(
        "chain-consistent", "no NAME bitmap in that run is inconsistent", chain.chain_consistent
    ),
    Rule(
        "qemu-img-agrees",
        "cross-check",
        SNAPSHOT,
        IMAGE,
        "for every image inspected, `qemu-img info` reports the same bitmaps (names, flags,"
        " granularity), backing file and format, and virtual size as the harness reads from"
        " the file",
        crosscheck.qemu_img_agrees,
    ),
    _hardening(
        "no-clobber",
        "given an OVERLAY path that exists, the implementation exits"
        " non-zero and leaves the file byte-identical",
        hardening.no_clobber,
    ),
    _hardening(
        "clean-failure",
        "when a step fails part-way, the implementation exits non-zero"
        " and leaves no OVERLAY or a fully conformant one; ACTIVE is untouched",
        hardening.clean_failure,
    ),
    _hardening(
        "locked-active",
        "while another process holds ACTIVE open for writing, the"
        " implementation refuses and changes nothing",
        hardening.locked_active,
    ),
    _hardening(
        "hostile-names",
        "names with spaces, quotes, `$(...)`, backticks, a leading `-`,"
        " a newline, non-ASCII text or 1023 bytes are carried byte-exactly and nothing"
        " in them runs",
        hardening.hostile_names,
    ),
    # Judged on every ordinary run, even a failed one: what a failed run
    # leaves behind is what a user must clean up.
    Rule(
        "overlay-only",
        "hardening",
        SNAPSHOT,
        SCENARIO,
        "besides OVERLAY, the run leaves no file created and none removed in the folders it"
        " was given: its working folder, which holds the chain's copy, and, for `exec:`"
        " programs, the HOME and TMPDIR the harness gives them",
        hardening.overlay_only,
        needs_overlay=False,
        needs_completion=False,
    ),
    Rule(
        "no-leftovers",
        "hardening",
        SNAPSHOT,
        SCENARIO,
        "when the implementation returns, no process it started is still running, even one"
        " that left its process group or session",
        hardening.no_leftovers,
        needs_overlay=False,
        needs_completion=False,
    ),
    _commit(
        "commit-completes",
        "the implementation exits 0, and COMMIT_BASE exists and opens as an image of its"
        " former format",
        commit.commit_completes,
        completion=True,
    ),
    _commit(
        "commit-data",
        "through the new chain (read through ABOVE, or through COMMIT_BASE after an active"
        " commit) the guest sees exactly the content the old chain showed, byte for byte",
        commit.commit_data,
    ),
    _commit(
        "commit-relink",
        "after an intermediate commit, ABOVE's backing file resolves to COMMIT_BASE and records"
        " COMMIT_BASE's format; after either kind, COMMIT_BASE's own backing link and every"
        " image below it are unchanged, and no image that stays in the chain (COMMIT_BASE,"
        " the images below it, ABOVE and the images above it) is deleted, truncated or"
        " replaced",
        commit.commit_relink,
    ),
    _commit(
        "commit-carry",
        "every carried name has a bitmap in COMMIT_BASE afterwards, with exactly that name,"
        " byte for byte",
        commit.commit_carry,
    ),
    _commit(
        "commit-granularity",
        "a carried bitmap COMMIT_BASE lacked before has the granularity the name has in"
        " COMMIT_TOP; one COMMIT_BASE already had keeps its own",
        commit.commit_granularity,
    ),
    _commit(
        "commit-recording",
        "a carried bitmap COMMIT_BASE lacked before is recording and consistent afterwards; no"
        " bitmap of COMMIT_BASE that was consistent before is inconsistent afterwards",
        commit.commit_recording,
    ),
    _commit(
        "commit-merged",
        "for every carried name, COMMIT_BASE's bitmap afterwards covers every guest byte that"
        " was dirty in COMMIT_BASE's bitmap of that name before, or in that name's bitmap of"
        " any image walked (compared on guest offsets, across differing granularities)",
        commit.commit_merged,
    ),
    _commit(
        "commit-others-untouched",
        "every bitmap of COMMIT_BASE whose name is not carried keeps its name, flags,"
        " granularity and every dirty bit; it may gain bits for clusters the data commit wrote,"
        " because qemu sets those in recording bitmaps",
        commit.commit_others_untouched,
    ),
    _commit(
        "commit-no-foreign",
        "COMMIT_BASE gains no bitmap whose name is not carried",
        commit.commit_no_foreign,
    ),
    _commit(
        "commit-image-check",
        "`qemu-img check` finds no corruption and no leaked cluster in COMMIT_BASE, nor in ABOVE"
        " after an intermediate commit",
        commit.commit_image_check,
    ),
    _commit(
        "commit-backup-ready",
        "every checkpoint whose chain was valid at the top before the commit is valid at the"
        " top afterwards. Every checkpoint valid at the top afterwards, whether or not it was"
        " valid before, has bitmaps whose union covers every guest range any bitmap of its name"
        " in the chain covered before the commit, and every cluster allocated in a gap image"
        " (an image between the top and the lowest image holding the name that does not hold"
        " it). A probe write through the new top sets bits in that top's recording bitmaps",
        commit.commit_backup_ready,
    ),
    _lifecycle(
        "lifecycle-backup-possible",
        "when a backup since checkpoint NAME is asked for, NAME is valid at the top by the chain"
        " rules if it would be valid had every snapshot and commit since NAME followed the"
        " procedure (worked out on the harness's model of the chain)",
        lifecycle.backup_possible,
    ),
    _lifecycle(
        "lifecycle-restore",
        "every backup, restored on the one it is based on (an incremental one: on the guest's"
        " disk when its checkpoint was made), equals the guest's disk byte for byte at the"
        " moment of the backup",
        lifecycle.restore,
    ),
)

BY_ID = {r.id: r for r in RULES}
