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


def baseline(tools, scenario, built, scratch, chain_infos=None):
    """Return the Baseline of scenario's pristine chain; scratch is a folder for qemu's merge.

    chain_infos: qemu-img info --backing-chain of the chain (top first), as the
    build's check got it; qemu-img is asked again only without it.
    """
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
    accounts = _accounts(images, chain_infos) or inspect.qemu_infos(tools, images)
    return Baseline(images, accounts, merged, declared_writes(scenario), missing)


def _accounts(images, chain_infos):
    """qemu-img's account of each image, by role, from the build's check; None
    unless that check opened the very files, with the formats, the reader saw
    (what inspect.qemu_infos asks of one --backing-chain call)."""
    if not chain_infos or len(chain_infos) != len(images):
        return None
    infos = list(reversed(chain_infos))
    for i, (image, info) in enumerate(zip(images, infos)):
        below = images[i - 1] if i else None
        if info.get("filename") != image.path and os.path.realpath(
            info.get("filename", "")
        ) != os.path.realpath(image.path):
            return None
        if below is not None and (
            image.backing_path != below.path or image.backing_format != below.format
        ):
            return None
    if images[0].backing_file is not None:
        return None
    return {image.role: inspect.qemu_account_of(info) for image, info in zip(images, infos)}


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
