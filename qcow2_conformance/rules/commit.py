"""The commit rules: what must hold after an implementation of the commit procedure returns.

Each check takes a CommitObservation (observe/facts.py). The carried names
are those whose bitmap chain, from COMMIT_TOP down, passes the chain rules;
step 3 of the algorithm walks each from COMMIT_TOP down towards COMMIT_BASE,
stopping at COMMIT_BASE or at the first image without it.
"""

from qcow2_conformance.observe.extents import describe, granules, merge, uncovered, union_of
from qcow2_conformance.rules import NotEvaluated
from qcow2_conformance.rules.backup import chain_problems, valid_checkpoints
from qcow2_conformance.rules.exit_status import run_problems
from qcow2_conformance.rules.snapshot import chain_changes


def carried(obs):
    """The names whose chain is valid at COMMIT_TOP before the commit, from the top down."""
    return valid_checkpoints(obs.chain_before(obs.top))


def walked(obs, name):
    """The images step 3 merges name from: COMMIT_TOP down, above COMMIT_BASE, while held."""
    images = []
    for image in obs.chain_before(obs.top)[: obs.top - obs.base]:
        if image.bitmap(name) is None:
            break
        images.append(image)
    return images


def commit_completes(obs):
    """commit-completes: the implementation exits 0; COMMIT_BASE opens, in its former format."""
    problems = run_problems(obs.run)
    if obs.run.timed_out:
        return problems
    before, after = obs.base_before, obs.base_after
    if after is None:
        problems.append(obs.unreadable[obs.base])
    elif after.format != before.format:
        problems.append(f"COMMIT_BASE is {after.format} after the commit, {before.format} before")
    return problems


def commit_data(obs):
    """commit-data: through the new chain the guest sees exactly what the old chain showed."""
    index = obs.above if obs.above is not None else obs.top
    old = obs.before[index]
    new = obs.after[obs.above] if obs.above is not None else obs.base_after
    if obs.same_content is None or new is None:
        why = obs.lost or obs.unreadable.get(obs.above, "nothing compared")
        raise NotEvaluated(f"not evaluated: {why}")
    where = "ABOVE" if obs.above is not None else "COMMIT_BASE"
    same, said = obs.same_content
    problems = []
    if not same:
        problems.append(
            f"through {where} the guest sees other content than the old chain showed through"
            f" {obs.label(index)}: qemu-img compare said: {said}"
        )
    if new.virtual_size != old.virtual_size:
        problems.append(
            f"virtual size {new.virtual_size} through {where}, {old.virtual_size} before"
        )
    return problems


def commit_relink(obs):
    """commit-relink: ABOVE is backed by COMMIT_BASE; COMMIT_BASE's link and what is below keep.

    An image that stays in the chain and was deleted, truncated or replaced is
    named first, with what happened to it.
    """
    problems = [d.line for _, d in sorted(obs.damage.items())]
    base = obs.base_after
    if obs.above is not None:
        above = obs.after[obs.above]
        if above is not None:
            if above.backing_path != base.path:
                problems.append(
                    f"ABOVE's backing file {above.backing_file!r} resolves to"
                    f" {above.backing_path!r}, expected COMMIT_BASE {base.path!r}"
                )
            if above.backing_format != base.format:
                problems.append(
                    f"ABOVE's backing format is {above.backing_format!r},"
                    f" COMMIT_BASE is {base.format!r}"
                )
    old = obs.base_before
    if (old.backing_file, old.backing_format) != (base.backing_file, base.backing_format):
        problems.append(
            f"COMMIT_BASE's backing link changed from {old.backing_file!r} ({old.backing_format})"
            f" to {base.backing_file!r} ({base.backing_format})"
        )
    for index in range(obs.base):
        problems += chain_changes((obs.before[index],), (obs.after[index],))
    return problems


def commit_carry(obs):
    """commit-carry: every carried name has a bitmap of exactly that name in COMMIT_BASE."""
    names = set(obs.base_after.names)
    return [
        f"checkpoint {name!r}: its chain is valid at COMMIT_TOP, but COMMIT_BASE has no"
        " bitmap of that name after the commit"
        for name in carried(obs)
        if name not in names
    ]


def commit_granularity(obs):
    """commit-granularity: a created bitmap has COMMIT_TOP's granularity; one kept, its own."""
    problems = []
    top = obs.before[obs.top]
    for name in carried(obs):
        mine, had = obs.base_after.bitmap(name), obs.base_before.bitmap(name)
        if mine is None:
            continue
        wanted = had.granularity if had else top.bitmap(name).granularity
        if mine.granularity != wanted:
            whose = "it had in COMMIT_BASE" if had else "it has in COMMIT_TOP"
            problems.append(
                f"bitmap {name!r}: granularity {mine.granularity} in COMMIT_BASE,"
                f" expected {wanted}, the one {whose}"
            )
    return problems


def commit_recording(obs):
    """commit-recording: a created bitmap records and is consistent; none became inconsistent."""
    base, old = obs.base_after, obs.base_before
    problems = []
    for name in carried(obs):
        mine = base.bitmap(name)
        if mine is None or old.bitmap(name) is not None:
            continue
        if not mine.auto:
            problems.append(f"bitmap {name!r} created in COMMIT_BASE is not recording (no auto)")
        if mine.in_use:
            problems.append(f"bitmap {name!r} created in COMMIT_BASE is inconsistent (in-use)")
    for b in old.bitmaps:
        mine = base.bitmap(b.name)
        if not b.in_use and mine is not None and mine.in_use:
            problems.append(
                f"bitmap {b.name!r} of COMMIT_BASE was consistent, is inconsistent (in-use) now"
            )
    return problems


def commit_merged(obs):
    """commit-merged: each carried name in COMMIT_BASE covers its old bits and the walked ones."""
    problems = []
    for name in carried(obs):
        mine = obs.base_after.bitmap(name)
        if mine is None:
            continue
        had = obs.base_before.bitmap(name)
        sources = walked(obs, name)
        wanted = merge(([*had.dirty] if had else []) + union_of(sources, name))
        missing = uncovered(wanted, mine.dirty)
        if missing:
            where = ", ".join(obs.label(obs.before.index(i)) for i in sources) or "none"
            problems.append(
                f"bitmap {name!r} in COMMIT_BASE has no bits at {describe(missing)}, dirty"
                f" before the commit in COMMIT_BASE or in an image walked ({where})"
            )
    return problems


def committed(obs):
    """The guest ranges the data commit wrote into COMMIT_BASE: what the subchain mapped,
    rounded out to COMMIT_BASE's clusters.

    qemu's commit writes whole clusters of COMMIT_BASE: with 32 KiB clusters
    there and 1 KiB ones above, a recording bitmap of 1 KiB granularity was
    seen gaining bits up to the base's cluster boundaries (a generated
    scenario, seed 11).
    """
    subchain = obs.before[obs.base + 1 : obs.top + 1]
    mapped = merge((off, length) for image in subchain for off, length, _ in image.allocated)
    cluster = obs.base_before.cluster_size
    return granules(mapped, cluster, obs.base_after.virtual_size) if cluster else mapped


def commit_others_untouched(obs):
    """commit-others-untouched: COMMIT_BASE's other bitmaps keep all but bits the commit set."""
    names = set(carried(obs))
    problems = []
    for b in obs.base_before.bitmaps:
        if b.name in names:
            continue
        mine = obs.base_after.bitmap(b.name)
        if mine is None:
            problems.append(f"{b.describe()} of COMMIT_BASE was removed")
            continue
        if (mine.in_use, mine.auto, mine.granularity) != (b.in_use, b.auto, b.granularity):
            problems.append(f"{b.describe()} of COMMIT_BASE became {mine.describe()}")
        lost = uncovered(b.dirty, mine.dirty)
        if lost:
            problems.append(f"bitmap {b.name!r} of COMMIT_BASE lost its bits at {describe(lost)}")
        size = obs.base_after.virtual_size
        # A bit covers its whole granule: when the commit grows COMMIT_BASE, a bit
        # of the granule the old end cut short covers up to the new end (seed 7).
        had = granules(b.dirty, b.granularity, size)
        # qemu sets bits in recording bitmaps for what the data commit writes.
        allowed = granules(committed(obs), b.granularity, size)
        extra = uncovered(uncovered(mine.dirty, had), allowed if b.carried else [])
        if extra:
            problems.append(
                f"bitmap {b.name!r} of COMMIT_BASE gained bits at {describe(extra)},"
                " where the data commit wrote nothing"
            )
    return problems


def commit_no_foreign(obs):
    """commit-no-foreign: COMMIT_BASE gains no bitmap whose name is not carried."""
    known = set(obs.base_before.names) | set(carried(obs))
    return [
        f"bitmap {b.name!r} appeared in COMMIT_BASE, but its name is not carried"
        for b in obs.base_after.bitmaps
        if b.name not in known
    ]


def commit_image_check(obs):
    """commit-image-check: qemu-img check finds no corruption nor leak in COMMIT_BASE and ABOVE."""
    problems = []
    for index in (obs.base, obs.above):
        if index is None or obs.before[index].format != "qcow2":
            continue
        report = obs.checks.get(index)
        if report is None:
            why = obs.lost or obs.unreadable.get(index, "not checked")
            raise NotEvaluated(f"not evaluated: {why}")
        if report.get("not-run"):
            raise NotEvaluated(f"not evaluated: {report['not-run']}")
        for field, what in (
            ("corruptions", "corruptions"),
            ("leaks", "leaked clusters"),
            ("check-errors", "check errors"),
        ):
            if report.get(field):
                problems.append(
                    f"qemu-img check: {report[field]} {what} in {obs.label(index)}, expected 0"
                )
    return problems


def gap_images(chain, name):
    """The images of chain (top first) between its top and the lowest image holding name
    that do not hold name: written while name was not recording there."""
    holders = [i for i, image in enumerate(chain) if image.bitmap(name) is not None]
    if not holders:
        return []
    return [image for image in chain[: holders[-1]] if image.bitmap(name) is None]


def commit_backup_ready(obs):
    """commit-backup-ready: valid checkpoints stay valid; every checkpoint valid afterwards,
    resurrected ones too, covers its old bits, the gap images' clusters and the probe's writes."""
    probe = obs.probe
    if obs.lost:
        raise NotEvaluated(f"not evaluated: {obs.lost}")
    if probe is None or probe.error:
        raise NotEvaluated(
            "not evaluated: writing through the new top failed:"
            f" {probe.error if probe else 'no probe ran'}"
        )
    chain = probe.chain
    top = chain[0]
    problems = []
    for b in top.bitmaps:
        if not b.carried:
            continue
        missing = uncovered(granules(probe.writes, b.granularity, top.virtual_size), b.dirty)
        if missing:
            problems.append(
                f"(a) {b.name!r} in the new top {top.role} has no bits at {describe(missing)},"
                " which the probe wrote"
            )
    before = obs.chain_before()
    valid_before = valid_checkpoints(before)
    for name in valid_before:
        broken = chain_problems(chain, name)
        if broken:
            problems.append(
                f"(b) checkpoint {name!r} was valid at the top before the commit, not after:"
                f" {broken[0]}"
            )
    for name in valid_checkpoints(chain):
        covered = union_of(chain, name)
        since = union_of(before, name) + list(probe.writes)
        missing = uncovered(since, covered)
        if missing:
            problems.append(
                f"(c) checkpoint {name!r}: writes at {describe(missing)} are in no bitmap of"
                " its chain; an incremental backup would miss them"
            )
        was = "" if name in valid_before else ", resurrected by the commit,"
        for image in gap_images(before, name):
            written = [(off, length) for off, length, _ in image.allocated]
            lost = uncovered(written, covered)
            if lost:
                problems.append(
                    f"(d) checkpoint {name!r}{was} is valid at the top after the commit, but"
                    f" {obs.label(obs.before.index(image))} lacked it: the clusters written"
                    f" there at {describe(lost)} are in no bitmap of its chain; an incremental"
                    " backup from it would miss them"
                )
    return problems
