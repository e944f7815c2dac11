"""What the commit algorithm does with a commit scenario, read from its description.

Pure functions over a Scenario (docs/rules.md, "The commit procedure"): the
images the algorithm walks, and whether a careful implementation must refuse
the commit. The names it carries are Scenario.carried_at_commit_top(). The
generator uses them to keep only commit scenarios the reference can judge.
"""


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
