"""Whether a chain can back up from checkpoint NAME: the four chain rules at once.

libvirt checks them before an incremental backup (docs/rules.md, "Chain
rules"). The judge (rules/backup.py) and the scenario model (model.py) both
ask here, each telling what every image holds of NAME, so the two cannot
drift apart. rules/chain.py says which of the four rules fails, and why;
tests/rules/test_verdict.py checks that it agrees with this on every small chain.
The reference implementations keep their own copy on purpose: an
implementation must not share code with its judge.
"""


def valid_chain(held):
    """held: for each image, top first, None where it has no bitmap NAME, else
    (recording, consistent). True when NAME is held by one unbroken run of images
    from the top (chain-top, chain-contiguous), each of them recording
    (chain-recording) and consistent (chain-consistent)."""
    run = len(held) if None not in held else held.index(None)
    below = held[run:]
    return run > 0 and all(h is None for h in below) and all(r and c for r, c in held[:run])
