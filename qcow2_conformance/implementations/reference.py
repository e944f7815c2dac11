"""The reference implementation of the offline snapshot procedure.

    create OVERLAY on top of ACTIVE
    for each BITMAP in ACTIVE that is recording and consistent:
        create a recording bitmap named BITMAP in OVERLAY, with its granularity

It uses qemu's own code only, builds the overlay under a temporary name and
gives it its final name only when it is complete, so it never leaves a
half-made OVERLAY, and never replaces a file. Every bitmap is added in one
transaction, then qemu reads back from the file what it stored.

Where the process keeps a qemu-storage-daemon (tools/kept_daemon.py: on
this machine, from qemu 6.0), every step goes through it: qemu's account of
ACTIVE (the ImageInfo qemu-img info prints), blockdev-create for OVERLAY
(what qemu-img create runs), the bitmaps, the reading back. A run then
starts no program. If the daemon cannot open ACTIVE, qemu-img info says why,
in its own words, as it does elsewhere: there, qemu-img info and qemu-img
create, then a daemon of its own for the bitmaps (qemu-img bitmap, one call
a bitmap, without a daemon).

Usable on its own:  qcow2-snapshot ACTIVE OVERLAY
"""

import os
import sys

from qcow2_conformance.tools import (
    command,
    files,
    kept_daemon,
    qemu_img,
    storage_daemon,
    toolset,
)


class SnapshotError(Exception):
    """The snapshot was refused or failed; nothing was left behind."""


def carried_bitmaps(info):
    """(name, granularity) of each recording, consistent bitmap in a qemu-img info dict."""
    return [
        (b["name"], b["granularity"])
        for b in qemu_img.bitmaps(info)
        if "auto" in b["flags"] and "in-use" not in b["flags"]
    ]


def snapshot(tools, active, overlay, *, timeout=300):
    """Create OVERLAY on top of ACTIVE, carrying ACTIVE's recording bitmaps."""
    active, overlay = os.path.abspath(active), os.path.abspath(overlay)
    if files.exists(tools.host, overlay):
        raise SnapshotError(f"{overlay} already exists; choose a path that does not exist")
    # Without -U this fails while a VM holds ACTIVE: a snapshot taken behind
    # a running VM's back would miss its writes.
    kept = kept_daemon.usable(tools)
    info = _account(tools, active, kept, timeout)
    wanted = carried_bitmaps(info)
    partial = os.path.join(
        os.path.dirname(overlay), f".{os.path.basename(overlay)}.partial-{os.urandom(4).hex()}"
    )
    try:
        _create(tools, partial, active, info, kept, timeout)
        _add_and_confirm(tools, partial, wanted, kept, timeout)
        files.rename_no_clobber(tools.host, partial, overlay)
    except BaseException:
        files.remove(tools.host, partial, partial + ".qmp")
        raise
    return wanted


def _account(tools, active, kept, timeout):
    """qemu's account of ACTIVE (qemu-img info's dict): from the kept daemon when
    there is one and it can open ACTIVE as qcow2, else from qemu-img info,
    which probes the format and says in its own words why it cannot open it."""
    if kept:
        try:
            return kept_daemon.image_info(tools, active)
        except command.CommandError:
            pass
    return qemu_img.info(tools, active, timeout=timeout)


def _create(tools, path, active, info, kept, timeout):
    """An empty qcow2 image at path on top of ACTIVE, as qemu-img create -b ACTIVE makes it."""
    backing, backing_fmt = active, info["format"]
    if not kept:
        qemu_img.create(
            tools, path, fmt="qcow2", backing=backing, backing_fmt=backing_fmt, timeout=timeout
        )
        return
    kept_daemon.create(
        tools, path, backing=backing, backing_fmt=backing_fmt, virtual_size=info["virtual-size"]
    )


def _add_and_confirm(tools, path, wanted, kept, timeout):
    """Add wanted's bitmaps to path, then make sure qemu reads back from the file what it
    stored: the same daemon closes and reopens it, else qemu-img info does."""
    if kept or (tools.qemu_storage_daemon and wanted):
        asked = [(n, g, False) for n, g in wanted]
        if kept:
            read = kept_daemon.add_bitmaps_read_back(tools, path, asked)
        else:
            read = storage_daemon.add_bitmaps_read_back(
                tools, path, asked, script=path + ".qmp", timeout=timeout
            )
        _check(path, [(n, g) for n, g, recording, bad in read if recording and not bad], wanted)
        return
    for name, granularity in wanted:
        qemu_img.bitmap(tools, path, name, "--add", granularity=granularity, timeout=timeout)
    _check(path, carried_bitmaps(qemu_img.info(tools, path, timeout=timeout)), wanted)


def _check(path, made, wanted):
    if sorted(made) != sorted(wanted):
        raise SnapshotError(f"{path}: qemu stored {len(made)} bitmaps, {len(wanted)} were added")


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: qcow2-snapshot ACTIVE OVERLAY", file=sys.stderr)
        return 2
    try:
        tools = toolset.find(toolset.get_host(), os.environ.get("QEMU_IMG"))
        carried = snapshot(tools, *args)
    except (SnapshotError, toolset.ToolError, command.CommandError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"{args[1]}: created on top of {args[0]}, {len(carried)} bitmaps carried")
    return 0


if __name__ == "__main__":
    sys.exit(main())
