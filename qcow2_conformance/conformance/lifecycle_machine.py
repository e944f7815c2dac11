"""Lifecycles drawn by hypothesis's stateful testing, and shrunk when one fails.

The machine's rules are the events of docs/rules.md's "Lifecycles"; their
preconditions ask the model (scenarios/lifecycle_model.py), never the disk,
so one seed draws the same events whatever the tool does.

Every lifecycle ends with a backup since its first checkpoint and one since
its latest (teardown), so that none ends without judging what happened.

A lifecycle is drawn on the model alone (draw), then carried out on a real
Disk by lifecycle_run.py, the same path a replay file takes. hypothesis's
first example is always its simplest one, whatever the seed, so the drawn
lifecycle is its second, and a shrink run leaves the first to the model too.
Shrinking (shrink) runs the machine on real disks, failing where the rule
shrunk for finds something, and keeps the shortest failing sequence it saw:
after its time budget every further example only walks the model, which
ends hypothesis's search at once; what hypothesis says then is not needed.
"""

import time

from hypothesis import HealthCheck, Phase, settings
from hypothesis import seed as seeded
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    get_state_machine_test,
    precondition,
    rule,
)

from qcow2_conformance.conformance.lifecycle_run import Stopped
from qcow2_conformance.scenarios import lifecycle as lc
from qcow2_conformance.scenarios.lifecycle_model import LifecycleModel

MAX_EVENTS = 12
# None: qemu's default, the cluster size.
GRANULARITIES = (None, 4096, 65536, 262144)


def derived_seed(seed, index):
    """The seed of lifecycle index of a run seeded seed: lifecycles do not share draws."""
    return (seed * 1_000_003 + index * 7919 + 1) % (1 << 32)


class Context:
    """What one hypothesis run of the machine shares between its examples.

    make_run: None to walk the model only, else a function returning a fresh
    LifecycleRun (one per example). target: the rule id an example fails on.
    """

    def __init__(self, size, cluster_size, commits, make_run=None, target=None, budget=None):
        self.size = size
        self.cluster_size = cluster_size
        self.commits = commits
        self.make_run = make_run
        self.target = target
        self.ends = None if budget is None else time.monotonic() + budget
        self.examples = 0
        self.drawn = ()  # the events of the latest example
        self.shortest = None  # the shortest event sequence that failed target

    def real(self):
        within = self.ends is None or time.monotonic() < self.ends
        return self.make_run is not None and self.examples > 1 and within

    def failed(self, events):
        if self.shortest is None or len(events) < len(self.shortest):
            self.shortest = tuple(events)


def machine_for(context):
    """A RuleBasedStateMachine class bound to context."""
    size, cluster = context.size, context.cluster_size

    class LifecycleMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            context.examples += 1
            self.run = context.make_run() if context.real() else None
            self.model = self.run.model if self.run else LifecycleModel(size)
            self.events = []
            self.stopped = False
            self.failed = False
            context.drawn = self.events

        def _do(self, event):
            self.events.append(event)
            if self.run is None:
                if not self.model.applies(event):
                    self.model.apply(event)
                return
            if self.stopped:
                return
            try:
                self.run.step(event)
            except Stopped:
                self.stopped = True
                return
            problems = self.run.found[context.target]
            if problems:
                self.failed = True
                context.failed(self.run.done)
                raise AssertionError(problems[0])

        def teardown(self):
            # Every lifecycle ends with backups since its first and its latest checkpoint,
            # so that each judges what its snapshots and commits did.
            try:
                names = [] if self.failed else self.model.names()
                for name in dict.fromkeys(names[:1] + names[-1:]):
                    self._do(lc.Backup(name))
            finally:
                if self.run is not None:
                    self.run.close()

        @rule(
            offset=st.integers(0, size - 1),
            length=st.integers(1, 2 * cluster + 512),
            pattern=st.integers(1, 255),
        )
        def write(self, offset, length, pattern):
            self._do(lc.Write(offset, min(length, size - offset), pattern))

        @rule(granularity=st.sampled_from(GRANULARITIES))
        def checkpoint(self, granularity):
            self._do(lc.Checkpoint(f"cp{len(self.model.names())}", granularity))

        @rule()
        def snapshot(self):
            self._do(lc.Snapshot())

        @rule()
        def foreign_snapshot(self):
            self._do(lc.ForeignSnapshot())

        @precondition(lambda self: context.commits and len(self.model.images) >= 2)
        @rule(data=st.data())
        def commit(self, data):
            images = len(self.model.images)
            base = data.draw(st.integers(0, images - 2), label="base")
            top = data.draw(st.integers(base + 1, images - 1), label="top")
            self._do(lc.Commit(top, base))

        @precondition(lambda self: self.model.invalid_names())
        @rule(data=st.data())
        def reuse_name(self, data):
            self._do(lc.ReuseName(data.draw(st.sampled_from(self.model.invalid_names()))))

        @rule()
        def full_backup(self):
            self._do(lc.Backup(None))

        @precondition(lambda self: self.model.names())
        @rule(data=st.data())
        def backup(self, data):
            self._do(lc.Backup(data.draw(st.sampled_from(self.model.names()))))

    return LifecycleMachine


def _settings(phases, max_events):
    return settings(
        max_examples=2,
        stateful_step_count=max_events,
        database=None,
        deadline=None,
        phases=phases,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
        report_multiple_bugs=False,
    )


def _test(context, seed, phases, max_events):
    test = get_state_machine_test(machine_for(context), settings=_settings(phases, max_events))
    return seeded(seed)(test)


def draw(seed, *, size, cluster_size, commits, max_events=MAX_EVENTS):
    """The events of the lifecycle seed draws (a tuple), on the model alone."""
    context = Context(size, cluster_size, commits)
    _test(context, seed, [Phase.generate], max_events)()
    return tuple(context.drawn)


def shrink(seed, make_run, target, *, size, cluster_size, commits, budget, max_events=MAX_EVENTS):
    """The shortest event sequence hypothesis found that fails target, or None.

    make_run() -> a fresh LifecycleRun on a real disk; budget: seconds.
    """
    context = Context(size, cluster_size, commits, make_run, target, budget)
    try:
        _test(context, seed, [Phase.generate, Phase.shrink], max_events)()
    except Exception:  # noqa: BLE001 - hypothesis reports the failure it shrank; kept below
        pass
    return context.shortest
