"""backup-ready: after the snapshot, incremental backups still see every write."""

from qcow2_conformance.observe import extents
from qcow2_conformance.observe.extents import union_of
from qcow2_conformance.rules import NotEvaluated
from qcow2_conformance.rules.chain import (
    chain_consistent,
    chain_contiguous,
    chain_recording,
    chain_top,
)
from qcow2_conformance.scenarios.checkpoints import valid_chain

CHAIN_RULES = (chain_top, chain_contiguous, chain_recording, chain_consistent)


def chain_problems(chain, name):
    return [p for check in CHAIN_RULES for p in check(chain, name)]


def held(chain, name):
    """What each image of chain (ImageFacts, top first) holds of name, as
    scenarios.checkpoints.valid_chain asks it."""
    bitmaps = [image.bitmap(name) for image in chain]
    return [None if b is None else (b.auto, not b.in_use) for b in bitmaps]


def valid_checkpoints(chain):
    """Names whose bitmap chain, from chain's top, passes every chain rule."""
    names = dict.fromkeys(b.name for image in chain for b in image.bitmaps)
    return [n for n in names if valid_chain(held(chain, n))]


def backup_ready(obs):
    """backup-ready: new writes are tracked, valid checkpoints stay valid and cover every write."""
    probe = obs.probe
    if obs.lost:
        raise NotEvaluated(f"not evaluated: {obs.lost}")
    if probe is None or probe.error:
        raise NotEvaluated(
            f"not evaluated: writing through OVERLAY failed: "
            f"{probe.error if probe else 'no probe ran'}"
        )
    overlay, chain = probe.chain[0], probe.chain
    problems = []
    for b in obs.active.bitmaps:
        if not b.carried:
            continue
        mine = overlay.bitmap(b.name)
        if mine is None:
            problems.append(f"(a) {b.name!r}: no bitmap in OVERLAY records the new writes")
            continue
        wanted = extents.granules(probe.writes, mine.granularity, overlay.virtual_size)
        if list(mine.dirty) != wanted:
            problems.append(
                f"(a) {b.name!r}: OVERLAY has dirty bits at {extents.describe(mine.dirty)},"
                f" expected {extents.describe(wanted)} for the writes made"
            )
    before = tuple(reversed(obs.before))
    for name in valid_checkpoints(before):
        broken = chain_problems(chain, name)
        if broken:
            problems.append(
                f"(b) checkpoint {name!r} was valid before the snapshot, not after: {broken[0]}"
            )
            continue
        since = list(obs.declared_writes.get(name, ())) + list(probe.writes)
        missing = extents.uncovered(since, union_of(chain, name))
        if missing:
            problems.append(
                f"(c) checkpoint {name!r}: writes at {extents.describe(missing)} are in no"
                " bitmap of its chain; an incremental backup would miss them"
            )
    return problems
