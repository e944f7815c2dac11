"""What judging many lifecycles costs: wall time, and where the time goes.

    .venv/bin/python bench/lifecycles.py [--lifecycles 200] [--workers 2] [--impl reference]

Runs `qcow2-conformance --lifecycles N --seed S -n WORKERS` (up to 12
events each; docs/lifecycles.md) in a scratch folder and prints its wall
time, its exit status, the machine's load average before and after, and
the split of the lifecycles' own time (Disk.timings, summed over every
lifecycle, every worker): chain work (writes, checkpoints, reading
bitmaps, bitmap-less snapshots), the tool (its snapshots and commits),
backups and restores. The split is read from the verdicts the session
stored for each lifecycle (conformance/lifecycles.py). Asserts nothing.
"""

import argparse
import glob
import os
import pickle
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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
        argv = [
            sys.executable,
            "-m",
            "qcow2_conformance",
            f"--lifecycles={args.lifecycles}",
            f"--seed={args.seed}",
            f"--impl={args.impl}",
            f"--results={os.path.join(folder, 'out', 'results.json')}",
            f"--basetemp={base}",
            "-n",
            args.workers,
            "-q",
        ]
        before = load()
        start = time.monotonic()
        done = subprocess.run(argv, cwd=folder, capture_output=True, text=True)
        wall = time.monotonic() - start
        split, counted = {}, 0
        for path in glob.glob(os.path.join(base, "lifecycles", "*-lifecycle-*")):
            if os.path.splitext(path)[1] or path.endswith(".partial"):
                continue
            with open(path, "rb") as f:
                stored = pickle.load(f)
            counted += 1
            for kind, seconds in stored["timings"].items():
                split[kind] = split.get(kind, 0.0) + seconds
    print(f"{args.lifecycles} lifecycles of {args.impl}, -n {args.workers}, seed {args.seed}")
    print(f"wall time: {wall:.1f} s (exit status {done.returncode})")
    print(f"load average before: {before}; after: {load()}; CPUs: {os.cpu_count()}")
    print(f"split over {counted} lifecycles (seconds summed over the workers):")
    for kind in ("chain", "tool", "backup", "restore"):
        print(f"  {kind:8} {split.get(kind, 0.0):8.1f}")
    if done.returncode:
        print(done.stdout[-2000:], done.stderr[-2000:])


if __name__ == "__main__":
    main()
