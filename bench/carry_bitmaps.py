"""What a snapshot carrying many bitmaps costs, as users run it.

    .venv/bin/python bench/carry_bitmaps.py [--repeat R] [--per-bitmap] [N ...]
                                                             (default: 100 1000)

Builds an ACTIVE with N bitmaps, a tenth of them not to be carried (half
disabled, half inconsistent), and times, as separate processes started from
a folder outside the checkout:

  baseline  bench/qsd_snapshot.py: qemu-img info, create, one
            qemu-storage-daemon transaction, nothing else
  module    python -m implementations.reference (this Python)
  command   bin/qcow2-snapshot, bootstrap included
  per-bitmap  (with --per-bitmap) bin/qcow2-snapshot with a qemu that has
            no qemu-storage-daemon: one qemu-img bitmap --add per bitmap

The ways take turns, so load from other work on the machine falls on all of
them alike. Prints median and minimum wall time and each way's median over
the baseline's and over the module's; asserts nothing.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from qcow2_conformance.tools import qemu_img, qemu_io, storage_daemon, toolset  # noqa: E402


def build(tools, path, count):
    """ACTIVE with count bitmaps; returns how many of them are to be carried."""
    left_out = count // 10
    inconsistent, disabled = left_out // 2, left_out - left_out // 2
    qemu_img.create(tools, path, size=1 << 30)
    storage_daemon.add_bitmaps(
        tools, path, [(f"i{i:05}", None, False) for i in range(inconsistent)], script=path + ".qmp"
    )
    # A writer that dies leaves every bitmap then on disk in use, as a crash does.
    qemu_io.open_and_die(tools, path)
    storage_daemon.add_bitmaps(
        tools,
        path,
        [(f"d{i:05}", None, True) for i in range(disabled)]
        + [(f"b{i:05}", None, False) for i in range(count - left_out)],
        script=path + ".qmp",
    )
    return count - left_out


def ways(tools, folder, per_bitmap):
    env = dict(os.environ, QEMU_IMG=tools.qemu_img)
    found = [
        ("baseline", [sys.executable, os.path.join(ROOT, "bench", "qsd_snapshot.py")], env),
        (
            "module",
            [sys.executable, "-m", "qcow2_conformance.implementations.reference"],
            dict(env, PYTHONPATH=ROOT),
        ),
        ("command", [os.path.join(ROOT, "bin", "qcow2-snapshot")], env),
    ]
    if per_bitmap:
        # qemu-io must be beside qemu-img; qemu-storage-daemon must not.
        bindir = os.path.join(folder, "no-daemon")
        os.mkdir(bindir)
        for path in (tools.qemu_img, tools.qemu_io):
            os.symlink(path, os.path.join(bindir, os.path.basename(path)))
        found.append(
            ("per-bitmap", found[2][1], dict(env, QEMU_IMG=os.path.join(bindir, "qemu-img")))
        )
    return found


def run_once(argv, env, folder, active, carried):
    overlay = os.path.join(folder, "overlay.qcow2")
    if os.path.exists(overlay):
        os.remove(overlay)
    start = time.perf_counter()
    out = subprocess.run(
        [*argv, active, overlay], env=env, cwd=folder, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    # A way that failed or carried the wrong bitmaps has no figure worth printing.
    if out.returncode != 0 or f" {carried} bitmaps carried" not in out.stdout:
        sys.exit(f"{argv[-1]}: exit {out.returncode}: {out.stdout}{out.stderr}")
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("counts", nargs="*", type=int, default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--per-bitmap", action="store_true")
    args = parser.parse_args()
    tools = toolset.find(toolset.get_host())
    print(
        f"qemu: {tools.release}; {os.cpu_count()} cores, load average"
        f" {os.getloadavg()[0]:.2f} at start"
    )
    print(
        f"{'bitmaps':>7} {'carried':>7}  {'way':<10} {'median s':>8} {'min s':>6}"
        f" {'/baseline':>9} {'/module':>7}  runs"
    )
    folder = tempfile.mkdtemp(prefix="bench-carry-")
    try:
        chosen = ways(tools, folder, args.per_bitmap)
        for count in args.counts:
            active = os.path.join(folder, f"active-{count}.qcow2")
            carried = build(tools, active, count)
            times = {label: [] for label, _, _ in chosen}
            # One untimed turn each: page cache, bytecode, the bootstrap's stamp.
            for _label, argv, env in chosen:
                run_once(argv, env, folder, active, carried)
            for turn in range(args.repeat):
                for label, argv, env in chosen:
                    if label == "per-bitmap" and turn >= 1:
                        continue  # one process per bitmap: one timed run shows its scale
                    times[label].append(run_once(argv, env, folder, active, carried))
            base = statistics.median(times["baseline"])
            module = statistics.median(times["module"])
            for label, _, _ in chosen:
                median = statistics.median(times[label])
                print(
                    f"{count:>7} {carried:>7}  {label:<10} {median:>8.3f} {min(times[label]):>6.3f}"
                    f" {median / base:>8.2f}x {median / module:>6.2f}x  {len(times[label])}"
                )
            os.remove(active)
        print(f"load average {os.getloadavg()[0]:.2f} at end")
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
