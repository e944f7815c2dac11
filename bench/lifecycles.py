"""What judging many lifecycles costs: wall time, and where the time goes.

    .venv/bin/python bench/lifecycles.py [--lifecycles 200] [--workers 2] [--impl reference]

Runs `qcow2-conformance --lifecycles N --seed S -n WORKERS` (up to 12
events each; docs/lifecycles.md) in a scratch folder and prints its wall
time, its exit status, the machine's load average before and after, and
the split of the lifecycles' own time (Disk.timings, summed over every
lifecycle, every worker): chain work (writes, checkpoints, reading
bitmaps, bitmap-less snapshots), the tool (its snapshots and commits),
backups and restores. The split is read from the verdicts the session
stored for each lifecycle (conformance/lifecycles.py).

As bench/generated.py does for scenarios, it also prints lifecycles per
second, CPU per lifecycle (the run and everything it started), external
commands per lifecycle from the command log (bench/command_log.py; a
backup is one command, the shell that runs its daemon and NBD clients),
and the floor: one command for the disk and one per event (each write,
checkpoint, snapshot, commit and backup needs at least one program)
times the measured cost of starting one command, on the run's workers.
Asserts nothing.
"""

import argparse
import collections
import glob
import os
import pickle
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from generated import commands, program, pythoncpu_seconds, start_cost  # noqa: E402

from qcow2_conformance.tools import toolset  # noqa: E402

from phases import cpu_seconds  # noqa: E402


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lifecycles", type=int, default=200)
    parser.add_argument("--workers", default="2")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--impl", default="reference")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-lifecycles-") as folder:
        base = os.path.join(folder, "basetemp")
        os.makedirs(os.path.join(folder, "out"))
        logs = os.path.join(folder, "commands")
        os.makedirs(logs)
        argv = [
            sys.executable,
            "-m",
            "qcow2_conformance",
            "-p",
            "bench.command_log",
            f"--lifecycles={args.lifecycles}",
            f"--seed={args.seed}",
            f"--impl={args.impl}",
            f"--results={os.path.join(folder, 'out', 'results.json')}",
            f"--basetemp={base}",
            "-n",
            args.workers,
            "-q",
        ]
        env = {
            **os.environ,
            "BENCH_COMMAND_LOG": logs,
            "PYTHONPATH": os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])),
        }
        before = load()
        start, cpu = time.monotonic(), cpu_seconds()
        done = subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True)
        wall, cpu = time.monotonic() - start, cpu_seconds() - cpu
        lines, own = commands(folder), pythoncpu_seconds(folder)
        split, counted, events = {}, 0, 0
        for path in glob.glob(os.path.join(base, "lifecycles", "*-lifecycle-*")):
            if os.path.splitext(path)[1] or path.endswith(".partial"):
                continue
            with open(path, "rb") as f:
                stored = pickle.load(f)
            counted += 1
            events += len(stored["events"])
            for kind, seconds in stored["timings"].items():
                split[kind] = split.get(kind, 0.0) + seconds
    print(f"{args.lifecycles} lifecycles of {args.impl}, -n {args.workers}, seed {args.seed}")
    print(f"wall time: {wall:.1f} s (exit status {done.returncode})")
    print(f"load average before: {before}; after: {load()}; CPUs: {os.cpu_count()}")
    print(f"split over {counted} lifecycles (seconds summed over the workers):")
    for kind in ("chain", "tool", "backup", "restore"):
        print(f"  {kind:8} {split.get(kind, 0.0):8.1f}")
    n = max(counted, 1)
    print(
        f"{counted / wall:.2f} lifecycles/s; CPU {cpu:.1f} s, {cpu / n:.3f} CPU-s a lifecycle;"
        f" of which the pytest processes' own: controller {own['controller']:.1f} s,"
        f" workers {own['worker']:.1f} s"
    )
    print(
        f"external commands: {len(lines)}, {len(lines) / n:.1f} a lifecycle"
        f" ({events / n:.1f} events a lifecycle); most run:"
    )
    for name, count in collections.Counter(map(program, lines)).most_common(8):
        print(f"  {count / n:6.2f} a lifecycle  {name}")
    wall1, cpu1 = start_cost(toolset.find(toolset.get_host()))
    fewest = counted + events
    workers = int(args.workers) if args.workers.isdigit() and int(args.workers) else 1
    floor = fewest * wall1 / workers
    print(
        f"the floor: one command start {wall1 * 1000:.2f} ms wall, {cpu1 * 1000:.2f} ms CPU;"
        f" {fewest / n:.1f} commands a lifecycle (the disk and one per event) x {counted}"
        f" lifecycles / {workers} workers = {floor:.1f} s wall. This run:"
        f" {len(lines) / max(fewest, 1):.1f}x the floor's commands, {wall / floor:.1f}x its wall"
        if floor
        else "the floor: no lifecycle was counted"
    )
    if done.returncode:
        print(done.stdout[-2000:], done.stderr[-2000:])


if __name__ == "__main__":
    main()
