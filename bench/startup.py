"""Where a run's start and end go, step by step, in every process of the run.

    .venv/bin/python bench/startup.py [--count N] [--seed S] [--workers W] [--whole]
                                      [--repeat R] [--against DIR]

Runs the conformance suite from this checkout, as bench/generated.py does, on
--generate N (default 1000) with --seed S (default 7) and W xdist workers
(default 2), with the plugin bench/startup_clock.py, and prints, for the
controller and each worker, when each step happened (wall seconds since the
command started) and the CPU the process had used by then. Without --whole
the run stops once the first test started, so only the start is measured;
with --whole it runs to the end and the end is printed too. With --against
DIR (another checkout, such as `git archive main | tar -x -C DIR`), each
repetition runs DIR's harness first, then this one's, for a comparison
under the same load.

Results go to a temporary folder that is removed afterwards. Asserts nothing.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

from suite_env import suite_env

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(args, folder, root=ROOT):
    clock = os.path.join(folder, "clock")
    os.makedirs(clock)
    argv = [
        sys.executable,
        "-m",
        "qcow2_conformance",
        "-p",
        "startup_clock",
        "-q",
        "-n",
        str(args.workers),
        "--impl=reference",
        "--generate",
        str(args.count),
        "--seed",
        str(args.seed),
        f"--results={folder}/generated.json",
        f"--basetemp={folder}/tmp",
    ]
    # The plugin from this checkout, the harness from root's.
    env = {
        **suite_env(root),
        "BENCH_STARTUP_CLOCK": clock,
        "PYTHONPATH": os.path.join(ROOT, "bench"),
    }
    if not args.whole:
        env["BENCH_STARTUP_STOP"] = "1"
    load = os.getloadavg()[0]
    started = time.time()
    out = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True)
    ended = time.time()
    if out.returncode not in (0, 1, 2, 130) or not os.listdir(clock):
        sys.exit(
            f"bench: the run exited {out.returncode}:\n{out.stdout[-3000:]}{out.stderr[-2000:]}"
        )
    print(
        f"{root}: --generate {args.count} --seed {args.seed} -n {args.workers}:"
        f" exit {out.returncode},"
        f" wall {ended - started:.2f} s, load average {load:.2f} before,"
        f" {os.getloadavg()[0]:.2f} after"
    )
    marks = []
    for name in sorted(os.listdir(clock)):
        with open(os.path.join(clock, name), encoding="utf-8") as f:
            for line in f:
                what, wall, cpu = line.rstrip("\n").split("\t")
                marks.append((float(wall) - started, name, what, float(cpu)))
    marks.append((ended - started, "controller", "process ended", float("nan")))
    for at, who, what, cpu in sorted(marks):
        print(f"  {at:7.2f} s  {who:<10} {what:<42} CPU {cpu:6.2f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--whole", action="store_true")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--against", default=None, metavar="DIR")
    args = parser.parse_args()
    roots = [os.path.abspath(args.against), ROOT] if args.against else [ROOT]
    for _ in range(args.repeat):
        for root in roots:
            folder = tempfile.mkdtemp(prefix="bench-startup-")
            try:
                run(args, folder, root)
            finally:
                shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
