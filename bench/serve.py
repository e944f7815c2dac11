"""What one serve of qemu-storage-daemon costs: the cross-check, every lifecycle backup.

    .venv/bin/python bench/serve.py [--serves N] [--rounds R]

Makes a 64 MiB qcow2 image with one bitmap (1 MiB dirty) in a temporary
folder, then times storage_daemon.merged_dirty_maps on it N times (default
30), R rounds (default 3): one daemon that merges the bitmap twice (two
granularities) and serves both merges to two qemu-img map clients, which is
the cross-check of a scenario with two checkpoints. It prints, per serve,
the wall time, the CPU of what it started (the shell, the daemon, the
clients) and this process's own CPU, and beside them the same for the
programs alone (the daemon opening the image and quitting, with no merge
and no export, and one qemu-img map of the image, counted twice), the
floor a serve is measured against.
Asserts nothing; removes its folder.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from qcow2_conformance.tools import qemu_img, qemu_io, storage_daemon, toolset  # noqa: E402

SIZE = 64 << 20


def timed(rounds, serves, action):
    """(wall ms, children's CPU ms, own CPU ms) a call of action, per round."""
    for _ in range(rounds):
        start, before = time.monotonic(), os.times()
        for _ in range(serves):
            action()
        after = os.times()
        children = after.children_user + after.children_system
        children -= before.children_user + before.children_system
        own = after.user + after.system - before.user - before.system
        yield tuple(1000 * x / serves for x in (time.monotonic() - start, children, own))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serves", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    tools = toolset.find(toolset.get_host())
    folder = tempfile.mkdtemp(prefix="bench-serve-")
    try:
        image = os.path.join(folder, "a.qcow2")
        qemu_img.create(tools, image, size=SIZE)
        qemu_img.bitmap(tools, image, "b", "--add")
        qemu_io.write(tools, image, [(0, 1 << 20)])
        socket = os.path.join(folder, "s")
        merges = [(0, None, [(0, "b")]), (0, 65536, [(0, "b")])]

        def serve():
            storage_daemon.merged_dirty_maps(tools, [(image, "qcow2")], merges, socket)

        def daemon_alone():
            storage_daemon.apply(tools, image, [], script=os.path.join(folder, "qmp"))

        def one_map():
            qemu_img.map(tools, image)

        print(f"{args.rounds} rounds of {args.serves}; per call, wall / children's CPU / own CPU:")
        for label, action, times in (
            ("serve (daemon, 2 merges, 2 qemu-img map clients)", serve, 1),
            ("the programs alone: the daemon", daemon_alone, 1),
            ("the programs alone: qemu-img map", one_map, 2),
        ):
            for wall, children, own in timed(args.rounds, args.serves, action):
                print(
                    f"  {label:50} {wall * times:6.1f} ms  {children * times:6.1f} ms"
                    f"  {own * times:5.1f} ms" + ("  (x2)" if times == 2 else "")
                )
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
