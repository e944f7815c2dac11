"""Time the pure-Python qcow2 reader against one `qemu-img info` process.

Builds a qcow2 image with 1000 persistent bitmaps in a temporary directory
(one qemu-storage-daemon QMP transaction), then times N runs of

  (a) open_image + listing the bitmaps + dirty_count of each, and
  (b) qemu-img info --output=json,

and prints median and minimum. Like every harness command, qemu-img runs
through the local testinfra host (tools/), so (b) includes one shell
start. Run from the repository root:

    python3 bench/reader_vs_qemu_img.py [--runs N] [--bitmaps N] [--qemu-img PATH]
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from qcow2_conformance.qcow2 import open_image  # noqa: E402
from qcow2_conformance.tools import qemu_img, qemu_io, storage_daemon, toolset  # noqa: E402


def build(tools, path, count, granularity=65536):
    qemu_img.create(tools, path, size=2**30)
    storage_daemon.add_bitmaps(
        tools, path, [(f"b{i}", granularity, False) for i in range(count)], script=path + ".qmp"
    )
    # Some dirty bits, so dirty_count has data clusters to read.
    qemu_io.run(tools, path, ["write -P 0x1 0 1M", "write -P 0x2 512M 64k"])


def reader(path):
    with open_image(path) as img:
        return [(b.name, img.dirty_count(b)) for b in img.bitmaps]


def reader_list_only(path):
    with open_image(path) as img:
        return [b.name for b in img.bitmaps]


def qemu_img_info(tools, path):
    return qemu_img.bitmaps(qemu_img.info(tools, path))


def measure(func, path, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func(path)
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--bitmaps", type=int, default=1000)
    parser.add_argument(
        "--qemu-img",
        default=None,
        metavar="PATH",
        help="qemu-img to compare with (default: the one on"
        " PATH); qemu-io and qemu-storage-daemon come"
        " from its folder",
    )
    args = parser.parse_args()
    tools = toolset.find(toolset.get_host(), args.qemu_img)
    if tools.qemu_storage_daemon is None:
        sys.exit(f"no qemu-storage-daemon beside {tools.qemu_img}")

    tmpdir = tempfile.mkdtemp(prefix="qcow2-bench-")
    try:
        path = os.path.join(tmpdir, "bitmaps.qcow2")
        start = time.perf_counter()
        build(tools, path, args.bitmaps)
        built = time.perf_counter() - start

        # Same answer from both sides before timing anything.
        names = [name for name, _ in reader(path)]
        assert names == [b["name"] for b in qemu_img_info(tools, path)]

        rows = [
            ("reader: open + list", measure(reader_list_only, path, args.runs)),
            ("reader: open + list + dirty_count", measure(reader, path, args.runs)),
            (
                "qemu-img info --output=json",
                measure(lambda p: qemu_img_info(tools, p), path, args.runs),
            ),
        ]
        print(
            f"{args.bitmaps} bitmaps, {args.runs} runs each "
            f"(image built in {built:.2f} s, "
            f"{os.path.getsize(path) / 2**20:.1f} MiB)"
        )
        print(f"{'what':<36} {'median ms':>10} {'min ms':>10}")
        for name, (median, minimum) in rows:
            print(f"{name:<36} {median * 1000:>10.2f} {minimum * 1000:>10.2f}")
        ratio = rows[2][1][0] / rows[1][1][0]
        print(f"qemu-img info / reader (median): {ratio:.1f}x")
    finally:
        shutil.rmtree(tmpdir)


if __name__ == "__main__":
    main()
