"""Every rule the harness judges, one entry each, in the order of every report.

An entry is the whole rule: its id, family, procedure, what must hold (the
text docs/rules.md shows, checked by tests/test_registry.py), what it is
judged on, and its check, a pure function over facts whose docstring names
the id. Order, test ids, report columns and the docs tables all come from here.
"""

from dataclasses import dataclass

from rules import (
    CHECKPOINT,
    HARDENING,
    IMAGE,
    SCENARIO,
    backup,
    chain,
    crosscheck,
    hardening,
    snapshot,
)
from rules.families import BY_NAME

SNAPSHOT = "snapshot"  # the procedure: taking an external snapshot by hand


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

    @property
    def advisory(self):
        return BY_NAME[self.family].advisory


def _snapshot(rule_id, text, check, **flags):
    return Rule(rule_id, "snapshot", SNAPSHOT, SCENARIO, text, check, **flags)


def _chain(rule_id, text, check):
    return Rule(rule_id, "chain", SNAPSHOT, CHECKPOINT, text, check)


def _hardening(rule_id, text, check):
    return Rule(rule_id, "hardening", SNAPSHOT, HARDENING, text, check)


RULES = (
    _snapshot(
        "completes",
        "the implementation exits 0 and OVERLAY exists",
        snapshot.completes,
        needs_overlay=False,
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
        "ACTIVE and every image below it keep their bitmaps (names,"
        " flags, granularity, dirty bits), their guest data and their backing links",
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
)

BY_ID = {r.id: r for r in RULES}
