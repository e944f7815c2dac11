"""What the commit algorithm does with a commit scenario, read from its description.

Pure functions over a Scenario (docs/rules.md, "Committing external
snapshots"): whether a careful implementation must refuse the commit, and
whether the shape is one of the algorithm's known limits. The names it
carries are Scenario.carried_at_commit_top(). The generator uses them to
draw commit scenarios that say what the catalog's hand-written ones say.
"""

from qcow2_conformance.scenarios.model import AlgorithmLimit


def _usable(bitmap):
    return bitmap.recording and not bitmap.inconsistent


def walked(scenario, name):
    """Indices merged for name: from COMMIT_TOP down to above COMMIT_BASE, while they hold it."""
    found = []
    for index in range(scenario.commit_top, scenario.commit_base, -1):
        if scenario.images[index].bitmap_named(name) is None:
            break
        found.append(index)
    return found


# qemu grows COMMIT_BASE to COMMIT_TOP's size, and may write zeros for all of
# it (seen: 65 GB of a 139 GiB COMMIT_TOP on a 4 MiB base).
COST_MAX_GROWTH = 64 << 20


def refusal(scenario):
    """Why a careful implementation refuses this commit (as the reference does), or it
    costs too much to judge; None if neither."""
    base = scenario.virtual_size(scenario.commit_base)
    top = scenario.virtual_size(scenario.commit_top)
    if base > top:
        return "commit: COMMIT_BASE is larger than COMMIT_TOP: the guest would see past its end"
    if top - base > COST_MAX_GROWTH:
        return "cost: COMMIT_BASE would grow by over 64 MiB to COMMIT_TOP's size"
    names = scenario.carried_at_commit_top()
    if not names:
        return None
    base = scenario.commit_base
    if scenario.images[base].format != "qcow2":
        return "commit: COMMIT_BASE cannot hold bitmaps (raw or v2), and names must be carried"
    size = scenario.virtual_size(base)
    for name in names:
        if any(scenario.virtual_size(i) != size for i in walked(scenario, name)):
            return "commit: a carried bitmap and COMMIT_BASE's differ in virtual size"
    return None


def limit(scenario):
    """The AlgorithmLimit of the shapes docs/rules.md names, or None; "several" if more than one.

    (1) COMMIT_TOP holds name recording, an image between lacks it, COMMIT_BASE
    holds it disabled or inconsistent. (2) ABOVE holds name, COMMIT_TOP lacks
    it, COMMIT_BASE holds it disabled.
    """
    images, top, base, above = (
        scenario.images,
        scenario.commit_top,
        scenario.commit_base,
        scenario.above,
    )
    found = []
    for name in sorted({b.name for image in images for b in image.bitmaps}):
        in_base = images[base].bitmap_named(name)
        in_top = images[top].bitmap_named(name)
        if in_base is None:
            continue
        gap = any(images[i].bitmap_named(name) is None for i in range(base + 1, top))
        if in_top and in_top.recording and gap and not _usable(in_base):
            state = "inconsistent" if in_base.inconsistent else "disabled"
            found.append(
                AlgorithmLimit(
                    name,
                    f"COMMIT_TOP records {name!r} but an image between lacks it and"
                    f" COMMIT_BASE holds it {state}",
                )
            )
        elif above is not None and images[above].bitmap_named(name) and in_top is None:
            if not in_base.recording and not in_base.inconsistent:
                found.append(
                    AlgorithmLimit(
                        name,
                        f"ABOVE holds {name!r}, COMMIT_TOP lacks it and COMMIT_BASE holds it"
                        " disabled",
                    )
                )
    if len(found) > 1:
        return "several"
    return found[0] if found else None
