"""What each event of a lifecycle costs on a real disk, to size a run of many lifecycles.

    .venv/bin/python bench/lifecycle_disk.py [--repeat R] [--impl reference] [--qemu-img PATH]

On one Disk (conformance/lifecycle_disk.py, 4 MiB, 64 KiB clusters) of
this machine, times R times each (default 20) and prints the median and
minimum wall time of: a guest write, a checkpoint, reading every image's
bitmaps, a snapshot and a commit by the implementation (--impl), a
snapshot that carries no bitmap, an incremental backup with its restore,
and a full backup with its restore. The chain grows by one image per
snapshot and shrinks by one per commit, so it stays two or three images
deep. Asserts nothing.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from qcow2_conformance.conformance.lifecycle_disk import Disk, KiB, MiB  # noqa: E402
from qcow2_conformance.implementations import registry  # noqa: E402
from qcow2_conformance.tools import toolset  # noqa: E402


def timed(samples, name, call, *args):
    start = time.monotonic()
    result = call(*args)
    samples.setdefault(name, []).append(time.monotonic() - start)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--impl", default="reference")
    parser.add_argument("--qemu-img", help="a qemu-img of another release (default: PATH's)")
    args = parser.parse_args()
    tools = toolset.find(toolset.get_host(), args.qemu_img)
    impl = registry.resolve(args.impl)
    samples = {}
    with tempfile.TemporaryDirectory(prefix="bench-lcd-") as folder:
        with Disk(tools, impl, os.path.join(folder, "disk")) as disk:
            truth = bytes(disk.size)
            for r in range(args.repeat):
                name = f"c{r}"
                timed(samples, "write", disk.write, r * 64 * KiB, 100 * KiB, r + 1)
                timed(samples, "checkpoint", disk.checkpoint, name)
                timed(samples, "snapshot (impl)", disk.snapshot)
                timed(samples, "write", disk.write, 2 * MiB + r * KiB, 3 * KiB, r + 2)
                full = timed(samples, "full backup", disk.backup)
                truth = timed(samples, "full restore", disk.restore, full)
                timed(samples, "foreign snapshot", disk.foreign_snapshot)
                timed(samples, "bitmaps", disk.bitmaps)
                timed(samples, "commit (impl)", disk.commit, len(disk.images) - 1, 1)
                timed(samples, "write", disk.write, 3 * MiB + r * KiB, 5 * KiB, r + 3)
                incremental = timed(samples, "incremental backup", disk.backup, name)
                restored = timed(samples, "incremental restore", disk.restore, incremental, truth)
                timed(samples, "commit (impl)", disk.commit, 1, 0)
                assert restored == disk.restore(disk.backup())
            timings = dict(disk.timings)
    print(f"{tools.release}; {args.repeat} rounds; seconds, median (min)")
    for name, values in samples.items():
        print(f"  {name:22} {statistics.median(values):.3f}  ({min(values):.3f})  n={len(values)}")
    both = [b + r for b, r in zip(samples["incremental backup"], samples["incremental restore"])]
    print(f"  {'backup + restore':22} {statistics.median(both):.3f}  ({min(both):.3f})")
    print("  Disk.timings, whole run: " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))


if __name__ == "__main__":
    main()
