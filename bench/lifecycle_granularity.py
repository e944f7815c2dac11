"""How much more an incremental backup copies when a snapshot tool drops -g.

    .venv/bin/python bench/lifecycle_granularity.py [--impl exec:tests/faulty/careless.py]

On one 4 MiB disk (64 KiB clusters) per checkpoint granularity: the whole
disk written, a checkpoint of that granularity, 48 small writes (512 B to
10000 B at drawn offsets, seed 7) with two snapshots by the tool among
them, then a backup since the checkpoint as a backup application takes it
(conformance/lifecycle_disk.py). Prints the bytes of the backup's extents
for the reference and for the tool, their ratio, and whether each restore
equals the disk. A tool without -g gives every carried bitmap qemu's
default granularity (the cluster size here). Asserts nothing.
"""

import argparse
import os
import random
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from qcow2_conformance.conformance.lifecycle_disk import Disk, MiB  # noqa: E402
from qcow2_conformance.implementations import registry  # noqa: E402
from qcow2_conformance.tools import toolset  # noqa: E402

GRANULARITIES = (4096, 16384, 65536, 262144, 1048576)


def backup_bytes(tools, impl, granularity, writes):
    """(bytes the backup since the checkpoint copied, whether its restore is the disk)."""
    with tempfile.TemporaryDirectory() as folder:
        with Disk(tools, impl, os.path.join(folder, "disk")) as disk:
            truth = bytearray(disk.size)

            def write(offset, length, pattern):
                disk.write(offset, length, pattern)
                truth[offset : offset + length] = bytes([pattern]) * length

            write(0, disk.size, 1)
            disk.checkpoint("cp0", granularity)
            at_checkpoint = bytes(truth)
            for i, (offset, length) in enumerate(writes):
                write(offset, length, 2 + i % 200)
                if i in (15, 31):
                    disk.snapshot()
            backup = disk.backup("cp0")
            restored = disk.restore(backup, onto=at_checkpoint) == bytes(truth)
            return sum(length for _, length in backup.extents), restored


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", default="exec:tests/faulty/lifecycle_no_granularity.py")
    args = parser.parse_args()
    tools = toolset.find(toolset.get_host())
    tool = registry.resolve(args.impl, base_dir=ROOT)
    rng = random.Random(7)
    writes = [
        (rng.randrange(0, 4 * MiB - 10000), rng.choice((512, 4096, 10000))) for _ in range(48)
    ]
    print(f"backup since a checkpoint: bytes copied, reference vs {args.impl}")
    print(f"{'granularity':>12} {'reference':>10} {'tool':>10} {'ratio':>6}  restores equal")
    for granularity in GRANULARITIES:
        ref, ref_ok = backup_bytes(tools, registry.resolve("reference"), granularity, writes)
        got, got_ok = backup_bytes(tools, tool, granularity, writes)
        print(f"{granularity:>12} {ref:>10} {got:>10} {got / ref:>6.2f}  {ref_ok} / {got_ok}")


if __name__ == "__main__":
    main()
