"""The chain rules: what libvirt checks before a backup from checkpoint NAME.

Each takes a chain (ImageFacts, top first) and a checkpoint name.
"""


def _holders(chain, name):
    return [i for i, image in enumerate(chain) if image.bitmap(name) is not None]


def run_from_top(chain, name):
    """The images holding name in one unbroken run from the top."""
    run = []
    for image in chain:
        if image.bitmap(name) is None:
            break
        run.append(image)
    return run


def chain_top(chain, name):
    """chain-top: TOP holds a bitmap named NAME."""
    if chain[0].bitmap(name) is None:
        return [f"{chain[0].role} (the top) has no bitmap {name!r}"]
    return []


def chain_contiguous(chain, name):
    """chain-contiguous: the images holding NAME form one unbroken run that starts at TOP."""
    holders = _holders(chain, name)
    if not holders:
        return [f"no image holds {name!r}"]
    if holders != list(range(len(holders))):
        gap = next(i for i in range(len(chain)) if i not in holders)
        return [
            f"{name!r} is held by {', '.join(chain[i].role for i in holders)}"
            f" but not by {chain[gap].role}"
        ]
    return []


def chain_recording(chain, name):
    """chain-recording: every NAME bitmap in the run from TOP is recording."""
    return [
        f"{image.role}: {name!r} is not recording"
        for image in run_from_top(chain, name)
        if not image.bitmap(name).auto
    ]


def chain_consistent(chain, name):
    """chain-consistent: no NAME bitmap in the run from TOP is inconsistent."""
    return [
        f"{image.role}: {name!r} is inconsistent"
        for image in run_from_top(chain, name)
        if image.bitmap(name).in_use
    ]
