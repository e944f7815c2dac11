"""One sequential pass over scenarios in this process, phase by phase.

bench/parallel.py and bench/generated.py both account for a run this way:
building the chains, the baselines, the implementation runs with their
observation and verdicts, the hardening runs. What a run takes beyond
these is pytest's own cost per test and the run's start and end.
"""

import collections
import os
import resource
import time

from qcow2_conformance.conformance.cases import cases
from qcow2_conformance.conformance.pipeline import Pipeline
from qcow2_conformance.fixtures.cache import ChainCache
from qcow2_conformance.implementations import registry
from qcow2_conformance.rules import HARDENING
from qcow2_conformance.tools import kept_daemon, toolset


def cpu_seconds(who=resource.RUSAGE_CHILDREN):
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def kept_daemon_seconds():
    """CPU of the qemu-storage-daemon this process keeps (tools/kept_daemon.py):
    a child not reaped yet, which RUSAGE_CHILDREN misses."""
    kept = kept_daemon.running()
    if kept is None:
        return 0.0
    try:
        with open(f"/proc/{kept.session.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sequential_pass(impl_name, scenarios, folder):
    """({phase: [wall s, CPU s]} in order, the number of test cases) of one pass here.

    CPU counts this process, the commands it waited for and the daemon it keeps."""
    tools = toolset.find(toolset.get_host())
    impl = registry.resolve(impl_name)
    os.makedirs(os.path.join(folder, "runs"))
    pipeline = Pipeline(
        tools, ChainCache(tools, os.path.join(folder, "chains")), os.path.join(folder, "runs"), 300
    )
    times = collections.defaultdict(lambda: [0.0, 0.0])

    def used():
        return cpu_seconds() + cpu_seconds(resource.RUSAGE_SELF) + kept_daemon_seconds()

    def timed(name, func, *args):
        start, cpu = time.monotonic(), used()
        func(*args)
        times[name][0] += time.monotonic() - start
        times[name][1] += used() - cpu

    for scenario in scenarios:
        timed("building chains", pipeline.cache.pristine, scenario)
        timed("baselines (reading, qemu's merge)", pipeline.baseline, scenario)
        timed("implementation runs, observation, verdicts", pipeline.verdicts, impl, scenario)
    judged = cases([impl], scenarios)
    for case in judged:
        if case.rule.judged_on == HARDENING:
            for subject in case.subjects:
                timed("hardening runs", pipeline.hardening, impl, case.scenario, case.rule, subject)
    return dict(times), len(judged)
