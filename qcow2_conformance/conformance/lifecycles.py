"""Lifecycles in the suite: each (implementation, lifecycle) run once per session.

A lifecycle's two rules are two tests of one group (conformance/cases.py):
whichever asks first draws the lifecycle from its own seed
(lifecycle_machine.derived_seed), carries it out on a real Disk and stores
what each rule found for the session (fixtures/cache.once), so xdist
workers judge different lifecycles in parallel and none runs twice. A rule
that failed is then shrunk, once, by hypothesis, to the shortest event
sequence that fails it; that sequence is written as a replay file beside
the results, and the verdict's message ends with the command that replays it.
"""

import os
from dataclasses import replace

from qcow2_conformance.conformance.lifecycle_disk import unavailable
from qcow2_conformance.conformance.lifecycle_run import CLUSTER, SIZE, LifecycleRun, Stopped
from qcow2_conformance.fixtures.cache import once
from qcow2_conformance.implementations.external import ExternalProgram
from qcow2_conformance.procedures import commit, lifecycle
from qcow2_conformance.rules.outcomes import FAILED
from qcow2_conformance.scenarios import lifecycle as lc
from qcow2_conformance.tools import files, nbd


class Lifecycles:
    """root: a local folder every worker shares; images: the disks' folder on the target;
    replays: where replay files go; specs: {implementation name: its --impl}."""

    def __init__(
        self, tools, root, images, replays, specs, *, timeout, shrink_budget, exec_commits=False
    ):
        self.tools = tools
        self.root = root
        self.images = images or os.path.join(root, "disks")  # None: the target is this machine
        self.replays = replays
        self.specs = specs
        self.timeout = timeout
        self.shrink_budget = shrink_budget
        self.exec_commits = exec_commits
        self._made = 0
        # Both are asked per test and per lifecycle; the answers hold for the session,
        # and each asking was two `command -v` runs.
        self._unavailable = {}
        self._nbd = None
        os.makedirs(root, exist_ok=True)

    def unavailable(self, impl):
        if impl.name not in self._unavailable:
            self._unavailable[impl.name] = lifecycle.PROCEDURE.unavailable(
                impl, self.tools
            ) or unavailable(self.tools)
        return self._unavailable[impl.name]

    def verdict(self, impl, slot, rule_id):
        """The Verdict of rule_id on slot's lifecycle, with the replay command if it failed."""
        key = f"{_safe(impl.name)}-{slot.name}"
        found = once(os.path.join(self.root, key), lambda: self._run(impl, slot))
        verdict = found["verdicts"][rule_id]
        if verdict.outcome != FAILED or slot.replay:
            return verdict
        path = once(
            os.path.join(self.root, f"{key}-{rule_id}.shrunk"),
            lambda: self._shrink(impl, slot, rule_id, found["events"]),
        )
        events = len(lc.read_file(path).events)
        spec = self.specs.get(impl.name, impl.name)
        return replace(
            verdict,
            message=f"{verdict.message}; {len(found['events'])} events, shrunk to {events}:"
            f" qcow2-conformance --lifecycle-replay {path} --impl {spec}",
        )

    def _events(self, impl, slot):
        if slot.replay:
            return lc.read_file(slot.replay).events
        from qcow2_conformance.conformance import lifecycle_machine  # hypothesis: drawing only

        return lifecycle_machine.draw(
            lifecycle_machine.derived_seed(slot.seed, slot.index),
            size=SIZE,
            cluster_size=CLUSTER,
            commits=self._commits(impl),
            max_events=slot.max_events,
        )

    def _commits(self, impl):
        """Whether impl's lifecycles have commits: an exec: program says nothing of the
        procedures it does, so --lifecycle-commits says it for it."""
        if isinstance(impl, ExternalProgram):
            return self.exec_commits
        return commit.PROCEDURE.unavailable(impl, self.tools) is None

    def _new_run(self, impl):
        self._made += 1
        folder = os.path.join(self.images, f"{_safe(impl.name)}-{os.getpid()}-{self._made}")
        if self._nbd is None:
            self._nbd = nbd.find(self.tools.host)
        run = LifecycleRun(self.tools, impl, folder, timeout=self.timeout, nbd_tools=self._nbd)
        return _Cleaned(run, self.tools)

    def _run(self, impl, slot):
        run = self._new_run(impl)
        try:
            for event in self._events(impl, slot):
                run.step(event)
        except Stopped:
            pass
        finally:
            run.close()
        return {
            "verdicts": run.verdicts(),
            "events": tuple(run.done),
            "timings": dict(run.disk.timings),
        }

    def _shrink(self, impl, slot, rule_id, events):
        """The replay file of the shortest sequence found that fails rule_id (else all events)."""
        from qcow2_conformance.conformance import lifecycle_machine  # hypothesis: shrinking only

        shortest = lifecycle_machine.shrink(
            lifecycle_machine.derived_seed(slot.seed, slot.index),
            lambda: self._new_run(impl),
            rule_id,
            size=SIZE,
            cluster_size=CLUSTER,
            commits=self._commits(impl),
            budget=self.shrink_budget,
            max_events=slot.max_events,
        )
        if shortest is None or len(shortest) > len(events):
            shortest = events
        os.makedirs(self.replays, exist_ok=True)
        path = os.path.join(self.replays, f"{_safe(impl.name)}-{slot.name}-{rule_id}.json")
        lc.write_file(path, lc.Lifecycle(impl.name, SIZE, CLUSTER, shortest, rule_id))
        return path


class _Cleaned:
    """A LifecycleRun whose close() also removes its disk's folder."""

    def __init__(self, run, tools):
        self._run, self._tools = run, tools

    def __getattr__(self, name):
        return getattr(self._run, name)

    def close(self):
        self._run.close()
        files.remove(self._tools.host, self._run.folder)


def _safe(name):
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
