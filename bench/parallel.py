"""How much two xdist workers gain on the whole catalog, and where the rest goes.

    .venv/bin/python bench/parallel.py [--repeat N] [--impl NAME]

Runs the conformance suite on the whole catalog as bin/conformance does
(one pytest, the reference by default) with -n 0, with -n 2 (each worker
pinned to a CPU of its own, the default) and with -n 2 --no-pin-workers, N
times each (default 3), and prints the median wall times, the CPU they used
and the ratios. Each run is cut in three by bench/run_clock.py: its
start-up (to the first test), its tests, and its end (after the last test).
Then it accounts for the time of one sequential run, phase by phase, in
this process: building the chains, the baselines, the implementation runs
with their observation and verdicts, the hardening runs; what is left is
pytest's own cost per test. Last, the ceiling of any split on 2 cores: the
catalog's two halves, each a -n 0 run, alone and then both at once, free
and then each on a CPU of its own. Asserts nothing.
"""

import argparse
import concurrent.futures
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from suite_env import suite_env  # noqa: E402

from qcow2_conformance.scenarios import load_catalog  # noqa: E402
from qcow2_conformance.scenarios.loader import CATALOG_DIR  # noqa: E402
from qcow2_conformance.scenarios.model import SNAPSHOT  # noqa: E402

from phases import sequential_pass  # noqa: E402

ENV = suite_env()


def suite(workers, impl, folder, *more, cpu=None):
    """Run the suite once (on CPU cpu, if given); return (wall s, CPU s of its
    processes, CPU-seconds the machine's CPUs were idle meanwhile, (start-up,
    tests, end) in seconds)."""
    os.makedirs(folder)
    clock = os.path.join(folder, "clock")
    idle_before = idle_seconds()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.time()
    start = time.monotonic()
    out = subprocess.run(
        [
            *(["taskset", "-c", str(cpu)] if cpu is not None else []),
            sys.executable,
            "-m",
            "qcow2_conformance",
            "-p",
            "bench.run_clock",
            "-q",
            "-n",
            str(workers),
            f"--impl={impl}",
            f"--results={os.path.join(folder, 'r.json')}",
            f"--basetemp={folder}/tmp",
            *more,
        ],
        cwd=ROOT,
        env={**ENV, "BENCH_RUN_CLOCK": clock},
        capture_output=True,
        text=True,
    )
    wall = time.monotonic() - start
    ended = time.time()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode not in (0, 1):
        sys.exit(
            f"bench: pytest -n {workers} exited {out.returncode}:\n"
            f"{out.stdout[-2000:]}{out.stderr[-2000:]}"
        )
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    with open(clock) as f:
        first, last = (float(t) for t in f.read().split())
    parts = (first - started, last - first, ended - last)
    return wall, cpu, idle_seconds() - idle_before, parts


def idle_seconds():
    """Idle and I/O-wait time of all CPUs since boot (/proc/stat), in seconds."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    return (int(fields[4]) + int(fields[5])) / os.sysconf("SC_CLK_TCK")


def medians(runs):
    """The median of each figure of suite() over runs, the parts each on its own."""
    parts = tuple(statistics.median(r[3][i] for r in runs) for i in range(3))
    return (*(statistics.median(r[i] for r in runs) for i in range(3)), parts)


def snapshot_scenarios():
    """What bin/conformance judges by default: the snapshot procedure's catalog."""
    return [s for s in load_catalog(CATALOG_DIR) if s.procedure == SNAPSHOT]


def side_by_side(impl, folder, pinned):
    """The workload's own ceiling on 2 cores, without xdist: the catalog's two
    halves run -n 0 one after the other, then both at once (pinned: each on a
    CPU of its own); returns (alone, together) wall seconds of each half, in pairs."""
    names = [s.name for s in snapshot_scenarios()]
    halves = [[f"--scenario={n}" for n in names[i::2]] for i in (0, 1)]
    cpus = sorted(os.sched_getaffinity(0))[:2] if pinned else [None, None]
    alone = [suite(0, impl, os.path.join(folder, f"alone{i}"), *h)[0] for i, h in enumerate(halves)]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        runs = [
            pool.submit(suite, 0, impl, os.path.join(folder, f"together{i}"), *h, cpu=cpus[i])
            for i, h in enumerate(halves)
        ]
        together = [r.result()[0] for r in runs]
    return list(zip(alone, together))


def phases(impl_name, folder):
    """Seconds of each phase of one sequential pass, measured here, in order; the test count."""
    times, tests = sequential_pass(impl_name, snapshot_scenarios(), folder)
    return {name: wall for name, (wall, _) in times.items()}, tests


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--impl", default="reference")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-parallel-")
    print(f"cores: {os.cpu_count()}, implementation: {args.impl}, runs of each: {args.repeat}")
    suite(2, args.impl, os.path.join(folder, "warm-up"))  # bytecode cache, page cache
    results = {}
    # Interleaved, so a slow minute of the machine weighs on every variant alike.
    variants = {0: (0, ()), 2: (2, ()), "free": (2, ("--no-pin-workers",))}
    runs = {key: [] for key in variants}
    for i in range(args.repeat):
        for key, (workers, more) in variants.items():
            runs[key].append(suite(workers, args.impl, os.path.join(folder, f"{key}-{i}"), *more))
    for key, (workers, more) in variants.items():
        results[key] = medians(runs[key])
        label = " ".join([f"-n {workers}", *more])
        print(
            f"{label:<26} wall {results[key][0]:6.2f} s   CPU {results[key][1]:6.2f} s"
            f"   idle {results[key][2]:5.2f} of {results[key][0] * os.cpu_count():5.2f} CPU-s"
            f"   (walls: {', '.join(f'{r[0]:.2f}' for r in runs[key])})"
        )
    ratio = results[0][0] / results[2][0]
    print(f"speed-up of -n 2 over -n 0: {ratio:.2f}x (goal: 1.8x)")
    print(f"speed-up of -n 2 --no-pin-workers over -n 0: {results[0][0] / results['free'][0]:.2f}x")

    print("\neach run cut in three (medians): start-up (to the first test), the tests, the end")
    for key, (workers, more) in variants.items():
        start, middle, end = results[key][3]
        label = " ".join([f"-n {workers}", *more])
        gain = f"   the tests {results[0][3][1] / middle:.2f}x faster" if workers else ""
        print(f"  {label:<24} {start:5.2f} s {middle:6.2f} s {end:5.2f} s{gain}")
    times, tests = phases(args.impl, os.path.join(folder, "phases"))
    start, _, end = results[0][3]
    print(f"\nwhere one sequential run's {results[0][0]:.2f} s go ({tests} tests):")
    print(f"  {'start-up and end (above)':<46} {start + end:6.2f} s")
    for name, seconds in times.items():
        print(f"  {name:<46} {seconds:6.2f} s")
    rest = results[0][0] - start - end - sum(times.values())
    print(
        f"  {'the rest: pytest per test, reports':<46} {rest:6.2f} s"
        f"   ({rest / tests * 1000:.2f} ms a test)"
    )
    print(f"CPU of -n 2 minus CPU of -n 0: {results[2][1] - results[0][1]:+.2f} s")
    print("\nthe workload itself on 2 cores, without xdist:")
    for pinned in (False, True):
        pairs = side_by_side(args.impl, os.path.join(folder, f"halves-{pinned}"), pinned)
        ceiling = sum(a for a, _ in pairs) / max(t for _, t in pairs)
        print(
            f"  each half of the catalog alone {', '.join(f'{a:.2f}' for a, _ in pairs)} s,"
            f" both at once{' (each on a CPU of its own)' if pinned else ''}"
            f" {', '.join(f'{t:.2f}' for _, t in pairs)} s: this split gains {ceiling:.2f}x"
        )
    subprocess.run(["rm", "-rf", "--", folder], check=False)


if __name__ == "__main__":
    main()
