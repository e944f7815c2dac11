"""One virtual disk operated by lifecycle events, and its real backups and restores.

The lifecycle machine (docs/rules.md, "Lifecycles") drives a Disk: guest
writes and checkpoints made here with qemu's tools, snapshots and commits
by the implementation under test, snapshots that carry no bitmap made as
another tool would, and backups taken as a backup application takes them.

A backup opens the chain read-only in one qemu-storage-daemon, merges NAME
of every image of NAME's chain (the images from the top down that hold it,
as libvirt does) into a temporary bitmap on the top node, and exports the
top over NBD with that bitmap. libnbd's nbdinfo reads the dirty extents,
nbdcopy copies the whole export to a raw file, and the extents' bytes are
taken from that copy: one sequential copy costs less than one nbdcopy per
extent, and the data read is what the same client read over the same
export. Backup.data holds those bytes, the extents' bytes one after the
other in extent order (a full backup: the whole disk).

The daemon, its clients and its end are one command
(storage_daemon.serve_chain): a backup costs one process start of the
harness, not four. Everything runs on the target host (tools/command.run);
the daemon carries the Disk's process mark, so close() stops it if a
backup was interrupted (tools/processes.py); a timeout kills it with its
command, and the error comes once it is gone.

timings adds up the seconds spent, by kind: "chain" (creating the base,
writes, checkpoints, bitmap-less snapshots, reading the chain's links and
bitmaps), "tool" (the implementation's runs), "backup", "restore".
"""

import os
import time
from dataclasses import dataclass

from qcow2_conformance.observe import chain_state
from qcow2_conformance.observe.inspect import InspectError
from qcow2_conformance.tools import (
    command,
    files,
    nbd,
    processes,
    qemu_img,
    qemu_io,
    storage_daemon,
    toolset,
)
from qcow2_conformance.tools.toolset import BITMAP_COMMAND

KiB = 1024
MiB = 1024 * KiB

BitmapState = chain_state.BitmapState


class ChainError(Exception):
    """The chain on disk is not what the run said it made: a fault of the tool.

    Raised after a snapshot or a commit whose images' real backing links
    disagree with the chain the run implies; the message says which link.
    """


class BackupError(Exception):
    """A backup from a checkpoint could not be taken: its chain is broken at
    the top, or qemu refused to merge or export its bitmaps."""


@dataclass(frozen=True)
class Backup:
    name: str | None  # the checkpoint it is taken since; None: a full backup
    extents: tuple  # (offset, length) ranges read, in order; full: ((0, size),)
    data: bytes  # the extents' bytes, one after the other, in extent order
    commands: tuple  # the log line of every command the backup ran


_NO_DAEMON = "lifecycles need qemu-storage-daemon, which {release} lacks"


def unavailable(tools):
    """Why lifecycles cannot run with tools here (a skip reason, one line), or None."""
    if not tools.qemu_storage_daemon:
        return _NO_DAEMON.format(release=tools.release or "this qemu")
    try:
        nbd.find(tools.host)
    except toolset.ToolError as e:
        return str(e)
    return None


class Disk:
    """One virtual disk: a qcow2 chain in `folder` on the target, operated by lifecycle events."""

    def __init__(
        self,
        tools,
        impl,
        folder,
        *,
        size=4 * MiB,
        cluster_size=64 * KiB,
        timeout=60.0,
        nbd_tools=None,
    ):
        """folder: an absolute path on the target (made if missing); nbd_tools: libnbd's
        tools as nbd.find found them (None: found here). Raises toolset.ToolError, one
        line, if qemu-storage-daemon or libnbd's tools are missing."""
        if not os.path.isabs(folder):
            raise ValueError(f"Disk folder {folder!r} is not an absolute path")
        if not tools.qemu_storage_daemon:
            raise toolset.ToolError(_NO_DAEMON.format(release=tools.release or "this qemu"))
        self.tools = tools
        self.impl = impl
        self.folder = folder
        self.size = size
        self.timeout = timeout
        self.timings = {"chain": 0.0, "tool": 0.0, "backup": 0.0, "restore": 0.0}
        self._nbd = nbd_tools or nbd.find(tools.host)
        self._mark = command.new_mark()
        self._scratch = None  # a short /tmp folder for the NBD socket and the copy
        self._daemon = False  # a daemon may be running
        self._made = 0
        with self._timed("chain"):
            files.mkdir(tools.host, folder)
            base = os.path.join(folder, "base.qcow2")
            qemu_img.create(
                tools, base, size=size, cluster_size=cluster_size, compat="1.1", timeout=timeout
            )
        self._images = [base]

    @property
    def images(self):
        """Image paths, base first, top last."""
        return list(self._images)

    @property
    def top(self):
        return self._images[-1]

    def write(self, offset, length, pattern):
        """A guest write of byte pattern over [offset, offset + length), through the top."""
        with self._timed("chain"):
            qemu_io.write(
                self.tools, self.top, [(offset, length)], pattern=pattern, timeout=self.timeout
            )

    def checkpoint(self, name, granularity=None):
        """A recording bitmap name added to the top image only, as libvirt does.

        granularity: None is qemu's default (the cluster size, 64 KiB at
        least). Raises command.CommandError if the top already holds name.
        """
        with self._timed("chain"):
            if BITMAP_COMMAND in self.tools.capabilities:
                qemu_img.bitmap(
                    self.tools,
                    self.top,
                    name,
                    "--add",
                    granularity=granularity,
                    timeout=self.timeout,
                )
            else:  # qemu 5.0 and 5.1 have no qemu-img bitmap
                storage_daemon.add_bitmaps(
                    self.tools,
                    self.top,
                    [(name, granularity, False)],
                    script=self.top + ".qmp",
                    timeout=self.timeout,
                )

    def snapshot(self):
        """The implementation takes an external snapshot of the top; RunFacts of its run."""
        overlay = self._new_path("s")
        with self._timed("tool"):
            # The implementation's own method, as procedures/snapshot.py calls it.
            facts = self.impl.snapshot(
                self.tools, self.top, overlay, cwd=self.folder, timeout=self.timeout
            )
        with self._timed("chain"):
            made = facts.exit_status == 0 and files.exists(self.tools.host, overlay)
            expected = self._images + [overlay] if made else self._images
            self._confirm(expected, f"the snapshot by {self.impl.name}")
        self._images = expected
        return facts

    def foreign_snapshot(self):
        """A snapshot by another tool that carries no bitmap (libvirt 9.0's offline snapshot)."""
        overlay = self._new_path("f")
        with self._timed("chain"):
            qemu_img.create(
                self.tools, overlay, backing=self.top, backing_fmt="qcow2", timeout=self.timeout
            )
        self._images.append(overlay)

    def commit(self, top, base):
        """The implementation commits images[base+1..top] into images[base]; RunFacts of its run."""
        if not 0 <= base < top < len(self._images):
            raise ValueError(f"commit({top}, {base}) on a chain of {len(self._images)} images")
        above = self._images[top + 1] if top + 1 < len(self._images) else None
        with self._timed("tool"):
            # The implementation's own method, as procedures/commit.py calls it.
            facts = self.impl.commit(
                self.tools,
                self._images[top],
                self._images[base],
                above,
                cwd=self.folder,
                timeout=self.timeout,
            )
        with self._timed("chain"):
            if facts.exit_status == 0:
                expected = self._images[: base + 1] + self._images[top + 1 :]
            else:
                expected = self._images
            self._confirm(expected, f"the commit by {self.impl.name}")
        self._images = expected
        return facts

    def bitmaps(self):
        """Per image, base first: {name: BitmapState}, read with the harness's reader."""
        with self._timed("chain"):
            return [dict(s.bitmaps) for s in chain_state.chain_state(self.tools, self._images)]

    def backup(self, name=None):
        """An incremental backup since checkpoint name (None: a full backup)."""
        with self._timed("backup"), command.recorded() as lines:
            sources, granularity = (), None
            if name is not None:
                sources, granularity = self._sources(name)
            scratch = self._scratch_folder()
            socket = os.path.join(scratch, "s")
            uri, copy = storage_daemon.export_uri(socket), os.path.join(scratch, "copy.raw")
            clients = [nbd.copy_argv(self._nbd, uri, copy)]
            if name is not None:
                bitmap = storage_daemon.TEMP_BITMAP
                clients.insert(0, nbd.dirty_map_argv(self._nbd, uri, bitmap))
            # Until serve_chain returns or raises, a daemon may be running:
            # an interrupt leaves it to close().
            self._daemon = True
            try:
                outputs = storage_daemon.serve_chain(
                    self.tools,
                    self._images,
                    socket,
                    clients,
                    sources=sources,
                    granularity=granularity,
                    timeout=self.timeout,
                    mark=self._mark,
                )
            except storage_daemon.Refused as e:
                self._daemon = False
                raise BackupError(f"backup since {name}: qemu refused it: {e}") from e
            except command.CommandError:
                self._daemon = False  # ended, or gone after a timeout (serve_chain waits)
                raise
            self._daemon = False
            if name is None:
                extents = ((0, self.size),)
            else:
                extents = tuple(nbd.parse_dirty_map(outputs[0]))
            data = files.read_ranges(self.tools.host, copy, extents)
        return Backup(name, extents, data, tuple(lines))

    def restore(self, backup, onto=None):
        """The disk restored from backup: onto (None: zeroes) with its extents written over it."""
        with self._timed("restore"):
            disk = bytearray(onto if onto is not None else bytes(self.size))
            if len(disk) != self.size:
                raise ValueError(f"restore onto {len(disk)} bytes, the disk has {self.size}")
            at = 0
            for off, length in backup.extents:
                disk[off : off + length] = backup.data[at : at + length]
                at += length
            return bytes(disk)

    def close(self):
        """Stop anything still running; the files stay (the caller removes the folder)."""
        if self._daemon:
            processes.kill_marked(self.tools.host, self._mark)
            self._daemon = False
        if self._scratch:
            files.remove(self.tools.host, self._scratch)
            self._scratch = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _sources(self, name):
        """(index, name) of each image of name's chain, top down, and the top's granularity."""
        states = chain_state.chain_state(self.tools, self._images)
        held = []
        for i in reversed(range(len(states))):
            if name not in states[i].bitmaps:
                break
            held.append((i, name))
        if not held:
            raise BackupError(
                f"checkpoint {name!r}: the top image ({os.path.basename(self.top)})"
                f" has no bitmap {name!r}, so no backup can be taken since it"
            )
        for i, _ in held:
            if not states[i].bitmaps[name].consistent:
                raise BackupError(
                    f"checkpoint {name!r}: its bitmap in {os.path.basename(self._images[i])}"
                    " is inconsistent (in use): qemu cannot merge it"
                )
        return tuple(held), states[-1].bitmaps[name].granularity

    def _confirm(self, expected, what):
        """Raise ChainError unless the images' backing links make exactly the chain expected."""
        try:
            states = chain_state.chain_state(self.tools, expected)
        except InspectError as e:
            raise ChainError(f"after {what}, {e}") from e
        below = None
        for state in states:
            if state.backing != below:
                raise ChainError(
                    f"after {what}, {os.path.basename(state.path)} is backed by"
                    f" {state.backing or 'nothing'}, expected {below or 'nothing'}"
                )
            below = state.real

    def _new_path(self, prefix):
        self._made += 1
        return os.path.join(self.folder, f"{prefix}{self._made}.qcow2")

    def _scratch_folder(self):
        # A UNIX socket path must fit in 108 bytes: the chain's folder may be deeper.
        if self._scratch is None:
            self._scratch = files.mkdtemp(self.tools.host, "harness-lcd")
        return self._scratch

    def _timed(self, kind):
        return _Timer(self.timings, kind)


class _Timer:
    def __init__(self, timings, kind):
        self.timings, self.kind = timings, kind

    def __enter__(self):
        self.start = time.monotonic()

    def __exit__(self, *exc):
        self.timings[self.kind] += time.monotonic() - self.start
