"""How long the reference takes to carry N bitmaps, both ways.

    python3 bench/carry_bitmaps.py [N ...]      (default: 100 1000)

Builds an ACTIVE with N recording bitmaps (one qemu-storage-daemon
transaction), then times the reference creating an overlay with them:
with qemu-storage-daemon (one transaction) and with qemu-img (one call per
bitmap, the fallback). Prints a table; asserts nothing.
"""

import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from implementations import reference  # noqa: E402
from tools import qemu_img, storage_daemon, toolset  # noqa: E402


def timed(func, repeat):
    times = []
    for _ in range(repeat):
        start = time.monotonic()
        func()
        times.append(time.monotonic() - start)
    return statistics.median(times), min(times)


def main(counts):
    tools = toolset.find(toolset.get_host())
    print(f"qemu: {tools.release}")
    print(f"{'bitmaps':>8}  {'way':<34}  {'median s':>9}  {'min s':>7}  runs")
    folder = tempfile.mkdtemp(prefix="bench-carry-")
    try:
        for count in counts:
            active = os.path.join(folder, f"active-{count}.qcow2")
            qemu_img.create(tools, active, size=1 << 30)
            storage_daemon.add_bitmaps(tools, active, [(f"b{i:05}", None, False) for i in range(count)],
                                       script=active + ".qmp")
            ways = [("reference, qemu-storage-daemon", tools, 5),
                    ("reference, qemu-img per bitmap", tools.without_storage_daemon(),
                     1 if count >= 500 else 3)]
            for label, way_tools, repeat in ways:
                overlay = os.path.join(folder, "overlay.qcow2")

                def once():
                    if os.path.exists(overlay):
                        os.remove(overlay)
                    reference.snapshot(way_tools, active, overlay)

                median, best = timed(once, repeat)
                print(f"{count:>8}  {label:<34}  {median:>9.2f}  {best:>7.2f}  {repeat}")
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 1000])
