"""Facts of a scenario's pristine chain, read once and shared by every implementation.

It also proves the reader's bit order against qemu: for each checkpoint with
dirty bits, qemu merges the checkpoint's bitmaps of every layer into a
scratch image (qemu-img bitmap --merge) and reports the result through a
read-only qemu-nbd export; the reader's union of the same bitmaps must match.
"""

import os

from qcow2_conformance.observe import inspect
from qcow2_conformance.observe.extents import merge, union_of
from qcow2_conformance.observe.facts import Baseline
from qcow2_conformance.tools import files, qemu_img, qemu_nbd
from qcow2_conformance.tools.toolset import BITMAP_COMMAND, NBD

MERGED = "merged"


def declared_writes(scenario):
    """Checkpoint name -> every range written while a bitmap of that name recorded."""
    writes = {}
    for image in scenario.images:
        for bitmap in image.bitmaps:
            writes.setdefault(bitmap.name, []).extend(bitmap.dirty)
    return {name: tuple(ranges) for name, ranges in writes.items()}


def baseline(tools, scenario, built, scratch):
    """Return the Baseline of scenario's pristine chain; scratch is a folder for qemu's merge."""
    images = inspect.chain_facts(tools, built.paths)
    merged = {}
    missing = tools.lacks(NBD, BITMAP_COMMAND)
    for name in scenario.dirty_checkpoints() if not missing else ():
        holders = [i for i in images if i.bitmap(name) and not i.bitmap(name).in_use]
        # qemu merges only bitmaps of one size: None says it cannot cross-check this one.
        same_size = len({i.virtual_size for i in holders}) == 1
        merged[name] = (
            union_of(holders, name),
            _qemu_merge(tools, holders, name, scratch) if same_size else None,
        )
    return Baseline(
        images, inspect.qemu_infos(tools, images), merged, declared_writes(scenario), missing
    )


def _qemu_merge(tools, holders, name, scratch):
    files.mkdir(tools.host, scratch)
    target = os.path.join(scratch, "merge.qcow2")
    qemu_img.create(tools, target, size=holders[-1].virtual_size)
    try:
        # The finest granularity of the layers keeps the union exact.
        finest = min(i.bitmap(name).granularity for i in holders)
        qemu_img.bitmap(tools, target, MERGED, "--add", "--disable", granularity=finest)
        for image in holders:
            qemu_img.bitmap(
                tools, target, MERGED, "--merge", name, "-b", image.path, "-F", image.format
            )
        return merge(qemu_nbd.dirty_extents(tools, target, MERGED, folder=scratch))
    finally:
        files.remove(tools.host, target)
