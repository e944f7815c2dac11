"""What carrying the checkpoints adds to a commit, on a chain with many bitmaps.

    .venv/bin/python bench/commit.py [--repeat R] [--data-mib D ...] [N]
                                                    (default: N 1000, D 64 and 512)

Builds BASE <- TOP (1 GiB each). TOP holds N bitmaps: half of them also in
BASE (carried, merged into BASE's), four tenths only in TOP (carried, created
in BASE), a tenth not carried (half disabled, half inconsistent). D MiB are
written into TOP while its bitmaps record, so each carried bitmap has D MiB
of dirty bits. Then times, as separate processes started from a folder
outside the checkout, each on a fresh copy of the chain:

  qemu-img  qemu-img commit -q -d -b BASE TOP: the data commit alone
  module    python -m implementations.commit_reference TOP BASE: the data
            commit, the bitmaps merged, the result read back
  command   bin/qcow2-commit TOP BASE, bootstrap included

The ways take turns, so load from other work on the machine falls on all of
them alike. Prints median and minimum wall time and each way's median over
qemu-img's; asserts nothing.
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

SIZE = 1 << 30
MIB = 1 << 20


def build(tools, folder, count, data_mib):
    """BASE and TOP in folder; returns how many of TOP's bitmaps are carried."""
    base, top = os.path.join(folder, "base.qcow2"), os.path.join(folder, "top.qcow2")
    left_out = count // 10
    inconsistent, disabled = left_out // 2, left_out - left_out // 2
    shared = (count - left_out) // 2
    script = os.path.join(folder, "build.qmp")
    qemu_img.create(tools, base, size=SIZE)
    storage_daemon.add_bitmaps(
        tools, base, [(f"s{i:05}", None, False) for i in range(shared)], script=script
    )
    # BASE's bitmaps get dirty bits of their own, in the first half of the disk.
    qemu_io.write(tools, base, [(0, data_mib * MIB // 2)], pattern=0x11)
    qemu_img.create(tools, top, backing="base.qcow2", backing_fmt="qcow2")
    storage_daemon.add_bitmaps(
        tools, top, [(f"i{i:05}", None, False) for i in range(inconsistent)], script=script
    )
    # A writer that dies leaves every bitmap then on disk in use, as a crash does.
    qemu_io.open_and_die(tools, top)
    storage_daemon.add_bitmaps(
        tools,
        top,
        [(f"d{i:05}", None, True) for i in range(disabled)]
        + [(f"s{i:05}", None, False) for i in range(shared)]
        + [(f"n{i:05}", None, False) for i in range(count - left_out - shared)],
        script=script,
    )
    # TOP's data: 1 MiB writes spread over the second half of the disk.
    stride = max(1, SIZE // 2 // MIB // data_mib) * MIB
    writes = [(SIZE // 2 + i * stride, MIB) for i in range(data_mib)]
    qemu_io.write(tools, top, writes, pattern=0x22)
    return base, top, count - left_out


def ways(tools):
    env = dict(os.environ, QEMU_IMG=tools.qemu_img)
    return [
        (
            "qemu-img",
            lambda top, base: [tools.qemu_img, "commit", "-q", "-d", "-b", base, top],
            env,
        ),
        (
            "module",
            lambda top, base: [
                sys.executable,
                "-m",
                "qcow2_conformance.implementations.commit_reference",
                top,
                base,
            ],
            dict(env, PYTHONPATH=ROOT),
        ),
        ("command", lambda top, base: [os.path.join(ROOT, "bin", "qcow2-commit"), top, base], env),
    ]


def run_once(argv, env, pristine, scratch, carried):
    """Run one way on a fresh copy of the chain; return its wall time."""
    if os.path.exists(scratch):
        shutil.rmtree(scratch)
    shutil.copytree(pristine, scratch)
    top, base = os.path.join(scratch, "top.qcow2"), os.path.join(scratch, "base.qcow2")
    start = time.perf_counter()
    command = argv(top, base)
    out = subprocess.run(command, env=env, cwd=scratch, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    # A way that failed or carried the wrong bitmaps has no figure worth printing.
    reference = command[0] != qemu_img_path(env)
    if out.returncode != 0 or (reference and f" {carried} bitmaps carried" not in out.stdout):
        sys.exit(f"{command[0]}: exit {out.returncode}: {out.stdout}{out.stderr}")
    return elapsed


def qemu_img_path(env):
    return env["QEMU_IMG"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("count", nargs="?", type=int, default=1000)
    parser.add_argument("--data-mib", type=int, nargs="+", default=[64, 512])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    tools = toolset.find(toolset.get_host())
    print(
        f"qemu: {tools.release}; {os.cpu_count()} cores, load average"
        f" {os.getloadavg()[0]:.2f} at start"
    )
    print(
        f"{'bitmaps':>7} {'carried':>7} {'data MiB':>8}  {'way':<9} {'median s':>8} {'min s':>6}"
        f" {'/qemu-img':>9}  runs"
    )
    folder = tempfile.mkdtemp(prefix="bench-commit-")
    try:
        chosen = ways(tools)
        for data_mib in args.data_mib:
            pristine = os.path.join(folder, f"chain-{data_mib}")
            os.mkdir(pristine)
            _, _, carried = build(tools, pristine, args.count, data_mib)
            scratch = os.path.join(folder, "scratch")
            times = {label: [] for label, _, _ in chosen}
            # One untimed turn each: page cache, bytecode, the bootstrap's stamp.
            for _label, argv, env in chosen:
                run_once(argv, env, pristine, scratch, carried)
            for _turn in range(args.repeat):
                for label, argv, env in chosen:
                    times[label].append(run_once(argv, env, pristine, scratch, carried))
            data = statistics.median(times["qemu-img"])
            for label, _, _ in chosen:
                median = statistics.median(times[label])
                print(
                    f"{args.count:>7} {carried:>7} {data_mib:>8}  {label:<9} {median:>8.3f}"
                    f" {min(times[label]):>6.3f} {median / data:>8.2f}x  {len(times[label])}"
                )
            shutil.rmtree(pristine)
        print(f"load average {os.getloadavg()[0]:.2f} at end")
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
