"""Facts of a scenario's pristine chain, read once and shared by every implementation.

It also proves the reader's bit order against qemu: for each checkpoint with
dirty bits, qemu merges the checkpoint's bitmaps of every layer and reports
the result through a read-only NBD export read by qemu-img map; the
reader's union of the same bitmaps must match. With qemu-storage-daemon one
daemon opens the chain read-only, merges every checkpoint into a bitmap of
its own that lives in memory only, and serves them all: the daemon the
process keeps (tools/kept_daemon.py), or one started for the chain
(tools/storage_daemon.py); without it, each checkpoint is merged into a
scratch image (qemu-img bitmap --merge) served by qemu-nbd (five commands
or more a checkpoint).
"""

import os

from qcow2_conformance.observe import inspect
from qcow2_conformance.observe.extents import merge, union_of
from qcow2_conformance.observe.facts import Baseline
from qcow2_conformance.tools import files, kept_daemon, qemu_img, qemu_nbd, storage_daemon
from qcow2_conformance.tools.toolset import BITMAP_COMMAND, NBD, STORAGE_DAEMON

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
    daemon = not tools.lacks(STORAGE_DAEMON)
    missing = None if daemon else tools.lacks(NBD, BITMAP_COMMAND)
    holders = {}
    for name in scenario.dirty_checkpoints() if not missing else ():
        holders[name] = [i for i in images if i.bitmap(name) and not i.bitmap(name).in_use]
    # qemu merges only bitmaps of one size: no merge (None) says it cannot cross-check one.
    mergeable = {n: h for n, h in holders.items() if len({i.virtual_size for i in h}) == 1}
    qemus = (_daemon_merges if daemon else _scratch_merges)(tools, images, mergeable, scratch)
    merged = {name: (union_of(h, name), qemus.get(name)) for name, h in holders.items()}
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


def _finest(holders, name):
    """The finest granularity of name's bitmaps in holders: it keeps their union exact."""
    return min(i.bitmap(name).granularity for i in holders)


def _daemon_merges(tools, images, merges, scratch):
    """{name: qemu's merge} of each checkpoint's holders, from one qemu-storage-daemon:
    the one this process keeps where there is one (tools/kept_daemon.py)."""
    wanted = list(merges.items())
    if not wanted:
        return {}
    index = {image.path: i for i, image in enumerate(images)}
    chain = [(image.path, image.format) for image in images]
    asked = [
        # The merge lands on the highest holder: all holders have its size.
        (index[h[-1].path], _finest(h, name), [(index[i.path], name) for i in h])
        for name, h in wanted
    ]
    if kept_daemon.usable(tools):
        maps = kept_daemon.merged_dirty_maps(tools, chain, asked, timeout=60)
    else:
        # A socket path is limited to 108 bytes, and scratch may be deeper than that.
        sockets = files.mkdtemp(tools.host, "harness-nbd")
        try:
            socket = os.path.join(sockets, "nbd.sock")
            maps = storage_daemon.merged_dirty_maps(tools, chain, asked, socket, timeout=60)
        finally:
            files.remove(tools.host, sockets)
    return {name: merge(extents) for (name, _), extents in zip(wanted, maps)}


def _scratch_merges(tools, images, merges, scratch):
    """{name: qemu's merge} of each checkpoint's holders, each in a scratch image."""
    return {name: _qemu_merge(tools, holders, name, scratch) for name, holders in merges.items()}


def _qemu_merge(tools, holders, name, scratch):
    files.mkdir(tools.host, scratch)
    target = os.path.join(scratch, "merge.qcow2")
    qemu_img.create(tools, target, size=holders[-1].virtual_size)
    try:
        qemu_img.bitmap(
            tools, target, MERGED, "--add", "--disable", granularity=_finest(holders, name)
        )
        for image in holders:
            qemu_img.bitmap(
                tools, target, MERGED, "--merge", name, "-b", image.path, "-F", image.format
            )
        return merge(qemu_nbd.dirty_extents(tools, target, MERGED, folder=scratch))
    finally:
        files.remove(tools.host, target)
