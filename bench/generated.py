"""Scenarios per second on generated scenarios, where the time goes, and the floor.

    .venv/bin/python bench/generated.py [--count N] [--seed S] [--workers W]
                                        [--impl NAME] [--sample M]

Runs the conformance suite from this checkout once, as bin/conformance
does, on --generate N (default 1000) with --seed S (default 7) and W xdist
workers (default 2), the reference by default, and prints:

- wall time (with the load average before and after: the machine is
  shared, so walls move with it), scenarios per second, CPU per scenario
  (user + system of the run and everything it started, qemu included:
  steadier than wall under load);
- external commands per scenario, counted from the command log
  (bench/command_log.py: every command tools/command.py runs, in every
  process of the run), and the programs run most;
- the split, as bench/parallel.py measures it: start-up (to the first
  test) and end (after the last) from bench/run_clock.py; then the phases of
  a sequential pass over M of the same drawn scenarios (default 100), timed
  in this process (building chains, baselines, implementation runs with
  observation and verdicts, hardening runs), in wall and in CPU, per
  scenario and scaled to N; what the workers spent beyond those phases is
  pytest's own cost per test and the reports;
- the floor: the fewest external commands a scenario needs (building its
  chain, the tool's own run, the cross-check, qemu-img check, the probe:
  5) times the measured cost of starting one command (qemu-img --version
  through tools/command.run), for N scenarios on W workers; and what pytest
  and xdist cost by themselves for as many tests as the run had, each doing
  nothing, on W workers.

Results go to a temporary folder that is removed afterwards. Asserts nothing.
"""

import argparse
import collections
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from suite_env import suite_env  # noqa: E402

from qcow2_conformance.scenarios import load_catalog  # noqa: E402
from qcow2_conformance.tools import command, toolset  # noqa: E402

from phases import cpu_seconds, sequential_pass  # noqa: E402

ENV = suite_env()
# Building a chain, the tool's own run, the cross-check (qemu-img info),
# qemu-img check, the probe: what a scenario cannot do without.
FLOOR_COMMANDS = 5


def _load():
    return os.getloadavg()[0]


def run_suite(args, folder):
    """One run: (wall s, CPU s, exit status, results path, clock parts, load before/after,
    tests)."""
    results = os.path.join(folder, "generated.json")
    logs, clock = os.path.join(folder, "commands"), os.path.join(folder, "clock")
    os.makedirs(logs)
    argv = [
        sys.executable,
        "-m",
        "qcow2_conformance",
        "-p",
        "bench.command_log",
        "-p",
        "bench.run_clock",
        "-q",
        "-n",
        str(args.workers),
        f"--impl={args.impl}",
        "--generate",
        str(args.count),
        "--seed",
        str(args.seed),
        f"--results={results}",
        f"--basetemp={folder}/tmp",
    ]
    env = {**ENV, "BENCH_COMMAND_LOG": logs, "BENCH_RUN_CLOCK": clock}
    load_before = _load()
    started, start, cpu = time.time(), time.monotonic(), cpu_seconds()
    out = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    wall, cpu, ended = time.monotonic() - start, cpu_seconds() - cpu, time.time()
    if out.returncode not in (0, 1):
        sys.exit(
            f"bench: the run exited {out.returncode}:\n{out.stdout[-3000:]}{out.stderr[-2000:]}"
        )
    with open(clock) as f:
        first, last = (float(t) for t in f.read().split())
    parts = (first - started, last - first, ended - last)
    # pytest's own count of tests ("N passed, M skipped"), not the results' records.
    tests = sum(int(n) for n in re.findall(r"(\d+) (?:passed|failed|skipped|error)", out.stdout))
    return wall, cpu, out.returncode, results, parts, (load_before, _load()), tests


def commands(folder):
    """Every logged command line of the run, from each process's log."""
    lines = []
    logs = os.path.join(folder, "commands")
    for name in os.listdir(logs):
        with open(os.path.join(logs, name), encoding="utf-8") as f:
            lines += [line for line in f if " -> exit " in line]
    return lines


def pythoncpu_seconds(folder):
    """{'controller': s, 'worker': s}: CPU the run's pytest processes used themselves."""
    found = collections.Counter()
    logs = os.path.join(folder, "commands")
    for name in os.listdir(logs):
        if name.endswith(".cpu"):
            with open(os.path.join(logs, name), encoding="utf-8") as f:
                role, seconds = f.read().split()
            found[role] += float(seconds)
    return found


def program(line):
    """What a logged command ran: the program, and for sh -c its first word."""
    words = line.split()
    name = os.path.basename(words[0])
    if name == "sh" and len(words) > 2:
        return f"sh -c {words[2].strip(chr(39)).split('=')[0].split(';')[0]}"
    if name in ("qemu-img", "qemu-io") and len(words) > 1 and not words[1].startswith("-"):
        return f"{name} {words[1]}"
    return name


def start_cost(tools, runs=40):
    """Median wall and mean CPU (the program and the harness) of one command start."""
    walls, cpu = [], cpu_seconds() + cpu_seconds(resource.RUSAGE_SELF)
    for _ in range(runs):
        start = time.monotonic()
        command.run(tools.host, [tools.qemu_img, "--version"])
        walls.append(time.monotonic() - start)
    return statistics.median(walls), (
        cpu_seconds() + cpu_seconds(resource.RUSAGE_SELF) - cpu
    ) / runs


# A suite of tests that do nothing, one per test of the run: what pytest and
# xdist cost by themselves, with the plugins every pytest run here loads.
NOOP_SUITE = """
import pytest


@pytest.mark.parametrize("i", range({tests}))
def test_nothing(i):
    pass
"""


def framework_cost(tests, workers, folder):
    """(wall s, CPU s) of pytest -n workers over tests no-op tests, in folder."""
    os.makedirs(folder)
    with open(os.path.join(folder, "test_nothing.py"), "w", encoding="utf-8") as f:
        f.write(NOOP_SUITE.format(tests=tests))
    with open(os.path.join(folder, "pytest.ini"), "w", encoding="utf-8") as f:
        f.write("[pytest]\n")
    argv = [sys.executable, "-m", "pytest", "-q", "-n", str(workers)]
    argv += ["-p", "no:cacheprovider", "-p", "no:hypothesispytest"]  # as the suite's pytest.ini
    start, cpu = time.monotonic(), cpu_seconds()
    out = subprocess.run(argv, cwd=folder, env=ENV, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"bench: the no-op suite exited {out.returncode}:\n{out.stdout[-2000:]}")
    return time.monotonic() - start, cpu_seconds() - cpu


def phases(impl_name, scenarios, folder):
    """{phase: [wall s, CPU s]} of one sequential pass over scenarios, in this process."""
    return sequential_pass(impl_name, scenarios, folder)[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--impl", default="reference")
    parser.add_argument("--sample", type=int, default=100)
    args = parser.parse_args()
    tools = toolset.find(toolset.get_host())
    folder = tempfile.mkdtemp(prefix="bench-generated-")
    try:
        report(args, tools, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def report(args, tools, folder):
    import json

    wall, cpu, status, results, (start, middle, end), load, tests = run_suite(args, folder)
    with open(results, encoding="utf-8") as f:
        doc = json.load(f)
    n = len(doc["scenarios"])
    print(
        f"--generate {args.count} --seed {args.seed} -n {args.workers} --impl {args.impl}:"
        f" {n} scenarios, {tests} tests, exit status {status}"
    )
    print(f"  wall {wall:.1f} s (load average {load[0]:.1f} before, {load[1]:.1f} after)")
    print(f"  {n / wall:.2f} scenarios/s; CPU {cpu:.1f} s, {cpu / n:.3f} CPU-s a scenario")
    own = pythoncpu_seconds(folder)
    print(
        f"  of which the pytest processes' own: controller {own['controller']:.1f} s, workers"
        f" {own['worker']:.1f} s; what they started (the commands, and the drawing's"
        f" two forked processes) {cpu - sum(own.values()):.1f} s"
    )
    lines = commands(folder)
    print(f"  external commands: {len(lines)}, {len(lines) / n:.1f} a scenario; most run:")
    for name, count in collections.Counter(map(program, lines)).most_common(12):
        print(f"    {count / n:5.2f} a scenario  {name}")

    drawn = load_catalog(os.path.splitext(results)[0] + ".scenarios")
    sample = sorted(drawn, key=lambda s: s.name)[: args.sample]
    times = phases(args.impl, sample, os.path.join(folder, "phases"))
    scale = n / len(sample)
    print(
        f"\nthe split: start-up {start:.2f} s and end {end:.2f} s of the run (wall);"
        f" its tests {middle:.2f} s on {args.workers} workers = {middle * args.workers:.1f}"
        f" worker-s. A sequential pass over {len(sample)} of its scenarios, here,"
        " per scenario and scaled to the run:"
    )
    print(f"  {'phase':<46} {'wall ms':>8} {'CPU ms':>7} {'x N wall s':>11}")
    spent = 0.0
    for name, (seconds, cpu_s) in times.items():
        spent += seconds * scale
        print(
            f"  {name:<46} {seconds / len(sample) * 1000:8.1f} {cpu_s / len(sample) * 1000:7.1f}"
            f" {seconds * scale:11.1f}"
        )
    rest = middle * args.workers - spent
    print(
        f"  {'the rest: pytest per test, reports, waiting':<46} {rest / n * 1000:8.1f}"
        f" {'':>7} {rest:11.1f}   ({rest / tests * 1000:.2f} ms a test)"
    )

    wall1, cpu1 = start_cost(tools)
    floor = FLOOR_COMMANDS * wall1 * n / args.workers
    print(
        f"\nthe floor: one command start (qemu-img --version through tools/command.run)"
        f" {wall1 * 1000:.2f} ms wall, {cpu1 * 1000:.2f} ms CPU;"
        f" {FLOOR_COMMANDS} commands a scenario x {n} scenarios / {args.workers} workers ="
        f" {floor:.1f} s wall ({FLOOR_COMMANDS * cpu1:.3f} CPU-s a scenario)."
        f" This run: {len(lines) / n:.1f} commands a scenario,"
        f" {wall / floor:.1f}x the floor's wall,"
        f" {cpu / n / (FLOOR_COMMANDS * cpu1):.1f}x its CPU"
    )
    wall0, cpu0 = framework_cost(tests, args.workers, os.path.join(folder, "noop"))
    print(
        f"pytest and xdist alone: {tests} tests that do nothing, -n {args.workers}:"
        f" {wall0:.1f} s wall, {cpu0:.1f} CPU-s ({cpu0 / n:.3f} a scenario)."
        f" With the commands' floor: {wall0 + floor:.1f} s wall,"
        f" {cpu0 / n + FLOOR_COMMANDS * cpu1:.3f} CPU-s a scenario"
    )


if __name__ == "__main__":
    main()
