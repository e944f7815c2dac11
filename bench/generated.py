"""Time of judging reference on generated scenarios, against the catalog's.

    .venv/bin/python bench/generated.py [COUNT [SEED [WORKERS [ROUNDS]]]]

Runs the conformance suite from this checkout, each run a pytest of its
own with WORKERS xdist workers (default 2): on the whole catalog, then on
--generate COUNT (default 200) with --seed SEED (default 11), ROUNDS times
(default 1), taking turns. Prints, for each run, the wall time, the CPU
time of the run and everything it started (qemu included), the tests and
the exit status; then the ratios of the medians (the issue asks for a wall
time under 4x). CPU time moves less than wall time when other work shares
the machine. Results go to a temporary folder that is removed afterwards.
"""

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(args, results):
    argv = [
        sys.executable,
        "-m",
        "qcow2_conformance",
        "-q",
        "--results",
        results,
        *args,
    ]
    started, cpu = time.monotonic(), _cpu()
    out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    wall, cpu = time.monotonic() - started, _cpu() - cpu
    with open(results, encoding="utf-8") as f:
        doc = json.load(f)
    return wall, cpu, out.returncode, doc


def main(count=200, seed=11, workers=2, rounds=1):
    runs = {"catalog": [], f"generated {count}": []}
    generate = ["--generate", str(count), "--seed", str(seed)]
    with tempfile.TemporaryDirectory(prefix="bench-generated-") as folder:
        for _ in range(rounds):
            for label, args in zip(runs, ([], generate)):
                wall, cpu, status, doc = run(
                    ["-n", str(workers), *args], os.path.join(folder, f"{label.split()[0]}.json")
                )
                runs[label].append((wall, cpu))
                print(
                    f"{label:>14}: {wall:6.1f} s wall, {cpu:6.1f} s CPU,"
                    f" {len(doc['scenarios'])} scenarios, {len(doc['results'])} tests,"
                    f" exit status {status}, load average {os.getloadavg()[0]:.1f}"
                )
                generated = doc["run"].get("generated")
                if generated:
                    print(
                        f"{'':>14}  {sum(generated['filtered'].values())} filtered; rules not"
                        f" exercised: {', '.join(generated['rules_not_exercised'])}"
                    )
    (catalog, drawn) = ([statistics.median(r[i] for r in runs[k]) for i in (0, 1)] for k in runs)
    print(
        f"median wall: catalog {catalog[0]:.1f} s, generated {drawn[0]:.1f} s,"
        f" ratio {drawn[0] / catalog[0]:.2f}; median CPU: ratio {drawn[1] / catalog[1]:.2f}"
        f" ({workers} workers, {rounds} rounds)"
    )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
