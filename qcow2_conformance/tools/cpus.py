"""One CPU per xdist worker, and the whole set back for a program under test.

A worker spends its time in chains of short processes (sh, timeout,
qemu-img), each waiting for the next. Unpinned on 2 cores, a `-n 2` run
left 3 of the 16 CPU-seconds it lasted idle while tasks waited for a CPU,
as if both workers' chains often shared one CPU. Pinning worker K to the
K-th CPU it may use keeps the chains apart (bench/parallel.py measures
both). Commands inherit the pin; an exec: program gets the set the worker
had before (taskset(1), in tools/command.py), so it runs as in a shell.
"""

import os

# The CPUs this process could use before pin() narrowed them, or None.
_before = None


def pinned_cpu(worker_index, worker_count, available):
    """The CPU worker worker_index of worker_count takes, or None.

    Pinned only when the workers fill the CPUs, one each (-n auto): with
    CPUs to spare the kernel has somewhere else to put a chain, and a pin
    could hold a worker on a CPU other work keeps busy.
    """
    cpus = sorted(available)
    if worker_count < 2 or worker_count != len(cpus):
        return None
    return cpus[worker_index]


def pin(worker_index, worker_count):
    """Pin this process (so every command it runs) to its CPU; return it, or None."""
    global _before
    available = os.sched_getaffinity(0)
    cpu = pinned_cpu(worker_index, worker_count, available)
    if cpu is None:
        return None
    try:
        os.sched_setaffinity(0, {cpu})
    except OSError:
        # A sandbox may forbid it; the run is only slower unpinned.
        return None
    _before = frozenset(available)
    return cpu


def unpinned():
    """The CPUs this process had before pin(), or None if it is not pinned."""
    return _before
