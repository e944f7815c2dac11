"""The snapshot rules: what must hold after an implementation returns."""

from qcow2_conformance.observe.extents import describe
from qcow2_conformance.rules import NotEvaluated
from qcow2_conformance.rules.exit_status import run_problems


def _carried(image):
    return [b for b in image.bitmaps if b.carried]


def completes(obs):
    """completes: the implementation exits 0 and OVERLAY exists."""
    problems = run_problems(obs.run)
    if obs.run.timed_out:
        return problems
    if not obs.overlay_exists:
        problems.append("OVERLAY does not exist after the run")
    return problems


def overlay_backing(obs):
    """overlay-backing: OVERLAY is qcow2 v3, backed by ACTIVE with ACTIVE's format and size."""
    if obs.overlay is None:
        return [obs.overlay_error or "OVERLAY could not be read"]
    overlay, active = obs.overlay, obs.after[-1]
    if active is None:
        raise NotEvaluated(f"not evaluated: {obs.damage[len(obs.after) - 1].line}")
    problems = []
    if overlay.format != "qcow2" or overlay.compat != "1.1":
        problems.append(
            f"OVERLAY is {overlay.format} compat {overlay.compat}, expected qcow2 compat 1.1"
        )
    if overlay.backing_path != active.path:
        problems.append(
            f"OVERLAY's backing file {overlay.backing_file!r} resolves to"
            f" {overlay.backing_path!r}, expected ACTIVE {active.path!r}"
        )
    if overlay.backing_format != active.format:
        problems.append(
            f"OVERLAY's backing format is {overlay.backing_format!r}, ACTIVE is {active.format!r}"
        )
    if overlay.virtual_size != active.virtual_size:
        problems.append(
            f"virtual size {overlay.virtual_size} in OVERLAY, {active.virtual_size} in ACTIVE"
        )
    return problems


def carry_recording(obs):
    """carry-recording: each recording, consistent bitmap of ACTIVE is in OVERLAY, same name."""
    names = set(obs.overlay.names)
    return [
        f"bitmap {b.name!r}: recording in ACTIVE, missing from OVERLAY"
        for b in _carried(obs.active)
        if b.name not in names
    ]


def same_granularity(obs):
    """same-granularity: every carried bitmap has the granularity of its ACTIVE counterpart."""
    problems = []
    for b in _carried(obs.active):
        mine = obs.overlay.bitmap(b.name)
        if mine is not None and mine.granularity != b.granularity:
            problems.append(
                f"bitmap {b.name!r}: granularity {mine.granularity} in OVERLAY,"
                f" {b.granularity} in ACTIVE"
            )
    return problems


def overlay_recording(obs):
    """overlay-recording: every bitmap in OVERLAY is recording."""
    return [
        f"bitmap {b.name!r} in OVERLAY is not recording (no auto flag)"
        for b in obs.overlay.bitmaps
        if not b.auto
    ]


def overlay_consistent(obs):
    """overlay-consistent: no bitmap in OVERLAY is inconsistent."""
    return [
        f"bitmap {b.name!r} in OVERLAY is inconsistent (in-use flag set)"
        for b in obs.overlay.bitmaps
        if b.in_use
    ]


def skip_disabled(obs):
    """skip-disabled: OVERLAY has no bitmap named like a disabled bitmap of ACTIVE."""
    names = set(obs.overlay.names)
    return [
        f"bitmap {b.name!r}: disabled in ACTIVE, yet present in OVERLAY"
        for b in obs.active.bitmaps
        if b.disabled and b.name in names
    ]


def skip_inconsistent(obs):
    """skip-inconsistent: OVERLAY has no bitmap named like an inconsistent bitmap of ACTIVE."""
    names = set(obs.overlay.names)
    return [
        f"bitmap {b.name!r}: inconsistent in ACTIVE, yet present in OVERLAY"
        for b in obs.active.bitmaps
        if b.in_use and b.name in names
    ]


def no_foreign_bitmaps(obs):
    """no-foreign-bitmaps: OVERLAY has no bitmap whose name ACTIVE lacks."""
    active = set(obs.active.names)
    below = {n for image in obs.before[:-1] for n in image.names}
    return [
        f"bitmap {b.name!r} in OVERLAY is not in ACTIVE"
        + (" (it exists only below ACTIVE)" if b.name in below else "")
        for b in obs.overlay.bitmaps
        if b.name not in active
    ]


def overlay_fresh(obs):
    """overlay-fresh: OVERLAY's bitmaps have no dirty bits and OVERLAY maps no data of its own."""
    problems = [
        f"bitmap {b.name!r} in OVERLAY has dirty bits at {describe(b.dirty)}, expected none"
        for b in obs.overlay.bitmaps
        if b.dirty
    ]
    if obs.overlay.allocated:
        problems.append(
            f"OVERLAY maps guest data of its own at {describe(obs.overlay.allocated)},"
            " expected none: the guest must see exactly ACTIVE's content"
        )
    return problems


def active_untouched(obs):
    """active-untouched: ACTIVE and the images below keep their bitmaps, data and backing links.

    An image deleted, truncated or replaced is named with what happened to it,
    first; one whose contents are lost is not compared further.
    """
    return [d.line for _, d in sorted(obs.damage.items())] + chain_changes(obs.before, obs.after)


def chain_changes(chain_before, chain_after):
    """What changed, image by image, in what matters of a chain; None: an image lost."""
    problems = []
    for before, after in zip(chain_before, chain_after):
        if after is None:
            continue
        where = before.role
        if [b for b in before.bitmaps] != [b for b in after.bitmaps]:
            problems.append(f"{where}: bitmaps changed: {_bitmap_change(before, after)}")
        if before.data_digest != after.data_digest:
            problems.append(f"{where}: guest data changed")
        if (before.backing_file, before.backing_format) != (
            after.backing_file,
            after.backing_format,
        ):
            problems.append(
                f"{where}: backing link changed from {before.backing_file!r}"
                f" ({before.backing_format}) to {after.backing_file!r} ({after.backing_format})"
            )
        if before.virtual_size != after.virtual_size:
            problems.append(
                f"{where}: virtual size changed from {before.virtual_size} to {after.virtual_size}"
            )
    return problems


def image_check(obs):
    """image-check: qemu-img check finds no corruption and no leaked clusters in OVERLAY."""
    report = obs.overlay_check
    if report is None:
        # qemu-img check opens the chain below OVERLAY too.
        why = obs.lost or "OVERLAY is not a qcow2 image qemu-img can check"
        raise NotEvaluated(f"not evaluated: {why}")
    if report.get("not-run"):
        raise NotEvaluated(f"not evaluated: {report['not-run']}")
    problems = []
    for field, what in (
        ("corruptions", "corruptions"),
        ("leaks", "leaked clusters"),
        ("check-errors", "check errors"),
    ):
        if report.get(field):
            problems.append(f"qemu-img check: {report[field]} {what} in OVERLAY, expected 0")
    return problems


def _bitmap_change(before, after):
    old = {b.name: b for b in before.bitmaps}
    new = {b.name: b for b in after.bitmaps}
    for name in old:
        if name not in new:
            return f"{old[name].describe()} was removed"
    for name in new:
        if name not in old:
            return f"{new[name].describe()} was added"
    for name, b in old.items():
        if b != new[name]:
            if b.dirty != new[name].dirty:
                return (
                    f"{name!r}: dirty bits {describe(b.dirty)} became {describe(new[name].dirty)}"
                )
            return f"{b.describe()} became {new[name].describe()}"
    return "their order changed"
