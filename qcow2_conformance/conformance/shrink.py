"""From a drawn scenario on which an implementation fails a rule, a smaller one that fails it.

hypothesis's own shrinker does the search. The round that drew the failing
scenario is replayed (scenarios.strategies.examples, same seed and round):
chains the run already judged answer from its verdicts without running
anything, until the first failing one comes; hypothesis then shrinks it
(fewer images and bitmaps, smaller sizes, shorter names), and every smaller
candidate qemu accepts is judged by the real pipeline. Once the time budget
is spent, candidates not judged yet count as passing, so hypothesis ends
quickly, with the smallest failing scenario found so far.
"""

import time
from dataclasses import replace

from hypothesis.errors import HypothesisException

from qcow2_conformance.conformance.pipeline import RunError
from qcow2_conformance.scenarios.strategies import examples, scenario_of


class _Fails(AssertionError):
    """The candidate fails the rule: what hypothesis shrinks."""


def size_key(scenario):
    """Smaller first: fewer images, fewer bitmaps, smaller sizes, shorter names, less data."""
    bitmaps = [b for image in scenario.images for b in image.bitmaps]
    return (
        len(scenario.images),
        len(bitmaps),
        sum(scenario.virtual_size(i) for i in range(len(scenario.images))),
        sum(len(b.name.encode("utf-8")) for b in bitmaps),
        sum(length for image in scenario.images for _, length in image.data)
        + sum(length for b in bitmaps for _, length in b.dirty),
    )


def candidate(images, procedure):
    """A scenario for images, named by its chain, so equal chains share verdicts."""
    drawn = scenario_of("shrink", "", images, procedure)
    return replace(drawn, name=f"shrink-{drawn.chain_digest()[:16]}", family="shrunk")


def fails(pipeline, impl, scenario, rule_id):
    """True when impl fails rule_id on scenario; a run that cannot be judged does not count."""
    try:
        verdicts = pipeline.verdicts(impl, scenario)
    except RunError:
        return False
    return any(rule == rule_id and v.outcome == "failed" for (rule, _), v in verdicts.items())


def shrink(pipeline, impl, rule_id, seed, round_, known, budget, procedure):
    """The smallest scenario found that fails rule_id under impl, or None.

    known: {chain digest: whether it fails rule_id} for the chains the run judged.
    budget: seconds to spend judging new candidates. procedure: the run's (procedures/),
    which draws and filters the candidates.
    """
    deadline = time.monotonic() + budget
    outcome = dict(known)
    failing = []

    def judge(images):
        scenario = candidate(images, procedure)
        key = scenario.chain_digest()
        if key not in outcome:
            if procedure.refusal(scenario) or time.monotonic() > deadline:
                return
            outcome[key] = fails(pipeline, impl, scenario, rule_id)
        if outcome[key]:
            failing.append(scenario)
            raise _Fails(rule_id)

    try:
        examples(seed, round_, procedure, judge, shrink=True)
    except (_Fails, HypothesisException):
        pass
    return min(failing, key=size_key) if failing else None
