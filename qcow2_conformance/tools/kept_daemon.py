"""The qemu-storage-daemon a process keeps running, from one use to the next.

Starting a qemu program costs about 6 ms of CPU here, whatever it then
does (docs/benchmarks.md). The steps the harness needs qemu for, whose
program no rule judges, go to one daemon that each process (each xdist
worker) starts on first use and keeps until it exits: building a chain's
data and bitmaps (fixtures/chain_daemon.py), the backup probe's writes and
qemu's merge of a checkpoint's bitmaps (observe/snapshot_run.py,
observe/commit_run.py, observe/baseline.py). So do the reference's steps
(implementations/reference.py): the rules judge what it leaves, not the
programs it runs. Each use
opens its images as nodes, works on them over QMP and the daemon's NBD
server, and closes them again, so nothing holds a file between uses.
Only on this machine (it holds the daemon's pipes), from qemu SINCE.
"""

import atexit
import os
import secrets

from qcow2_conformance.tools import command, daemon_session, nbd_write, qemu_img, toolset
from qcow2_conformance.tools.storage_daemon import (
    add_action,
    bitmaps_of,
    merged_actions,
    named,
    node_options,
)

# Nothing written here has to outlive the session, nor a crash of the
# machine: the nodes skip qemu's flushes (fdatasync), as qemu-io -t unsafe does.
CACHE = {"no-flush": True}
# Before 6.0 the daemon lacks what a kept one needs: qemu 5.2 keeps a
# program for each run of steps (and CI's 5.2 runs keep that way tested).
SINCE = (6, 0)


def usable(tools):
    """Whether tools' steps go through a kept daemon: on this machine, from qemu SINCE."""
    return daemon_session.usable(tools) and toolset.version(tools) >= SINCE


class Kept:
    """This process's daemon and its NBD server, which listens on an abstract
    UNIX socket (Linux), so a process killed leaves no file behind."""

    def __init__(self, tools):
        self.binary, self.pid = tools.qemu_storage_daemon, os.getpid()
        self._serial = 0
        self.socket_name = f"harness-nbd-{self.pid}-{secrets.token_hex(4)}"
        self.socket = "\0" + self.socket_name  # how Python names an abstract socket
        self.session = daemon_session.Session(tools)
        try:
            address = {"type": "unix", "data": {"path": self.socket_name, "abstract": True}}
            self.session.execute("nbd-server-start", {"addr": address})
        except BaseException:
            self.stop()
            raise

    def new_name(self, prefix):
        """A node, job or export name not used before in this daemon."""
        self._serial += 1
        return f"{prefix}{self._serial}"

    def export(self, node, *, name=None, writable=False, bitmaps=()):
        """Export node over NBD as name (its id too; None: named as the node, qemu's
        default name)."""
        options = {"type": "nbd", "id": name or node, "node-name": node}
        if name is not None:
            options["name"] = name
        if writable:
            options["writable"] = True
        if bitmaps:
            options["bitmaps"] = list(bitmaps)
        self.session.execute("block-export-add", options)

    def unexport(self, names):
        """End the exports of these names, and wait until qemu says each is gone."""
        # "hard": a client's disconnection may not be through yet; an export is
        # gone once qemu says so, not when block-export-del returns.
        for name in names:
            self.session.execute("block-export-del", {"id": name, "mode": "hard"})
        for name in names:
            self.session.wait_for("BLOCK_EXPORT_DELETED", id=name)

    def close(self, nodes):
        """blockdev-del each node, in order (top first: qemu stores the bitmaps of each)."""
        for node in nodes:
            self.session.execute("blockdev-del", {"node-name": node})

    def stop(self):
        self.session.kill()


def write(tools, path, extents, *, pattern, fmt="qcow2"):
    """qemu_io.write's writes, through the kept daemon: the image at path opened
    writable with its backing chain, as qemu-io opens it (the header names the
    backing file), written over NBD, closed. Raises command.CommandError with
    qemu's reason if qemu cannot open the image or refuses a write."""
    if not extents:
        return
    daemon = get(tools)
    node = daemon.new_name("w")
    file = {"driver": "file", "filename": path}
    daemon.session.execute(
        "blockdev-add", {"driver": fmt, "node-name": node, "cache": CACHE, "file": file}
    )
    try:
        daemon.export(node, writable=True)
        try:
            nbd_write.write(daemon.socket, node, [(off, n, pattern) for off, n in extents])
        except (OSError, nbd_write.NbdError) as e:
            raise command.CommandError(daemon.session.argv, command.Result(1, "", str(e))) from e
        daemon.unexport([node])
        daemon.close([node])
    except BaseException:
        stop()  # the node may still be open: the next use gets a new daemon
        raise


def merged_dirty_maps(tools, images, merges, *, timeout=None):
    """storage_daemon.merged_dirty_maps's answer, from the kept daemon: the chain
    opened read-only, each merge a bitmap of its own that lives in memory
    only, exported with it and read back by qemu-img map over the daemon's
    NBD server; the nodes closed again at the end."""
    if not merges:
        return []
    daemon = get(tools)
    chain = daemon.new_name("m")
    nodes = [f"{chain}n{i}" for i in range(len(images))]
    try:
        for i, (path, fmt) in enumerate(images):
            below = nodes[i - 1] if i else None
            options = node_options(nodes[i], path, below, fmt, read_only=True, cache=CACHE)
            daemon.session.execute("blockdev-add", options)
        bitmaps = [f"{chain}b{m}" for m in range(len(merges))]
        actions = []
        for (target, granularity, sources), name in zip(merges, bitmaps):
            sources = [(nodes[i], b) for i, b in sources]
            actions += merged_actions(nodes[target], name, granularity, sources)
        daemon.session.transaction(actions)
        maps, exported = [], []
        for (target, _, _), name in zip(merges, bitmaps):
            # One export a merge: a node exports once, and two merges may share one.
            export = daemon.new_name("e")
            daemon.export(nodes[target], name=export, bitmaps=[name])
            exported.append(export)
            argv = qemu_img.nbd_dirty_map_argv(
                tools, daemon.socket_name, export, name, abstract=True
            )
            out = command.run(tools.host, argv, timeout=timeout)
            maps.append(qemu_img.parse_nbd_dirty_map(out.stdout))
        daemon.unexport(exported)
        daemon.close(reversed(nodes))
    except BaseException:
        stop()
        raise
    return maps


def image_info(tools, path, fmt="qcow2"):
    """qemu-img info's dict of the image at path (as without -U or --backing-chain),
    from the kept daemon: query-named-block-nodes's account of the image opened
    read-only and alone, as qemu-img info opens it, is the same ImageInfo from
    the same code of qemu's. Raises command.CommandError with qemu's reason if
    qemu cannot open it as fmt."""
    return _read_only_node(get(tools), path, fmt)["image"]


def _read_only_node(daemon, path, fmt="qcow2"):
    """query-named-block-nodes's entry for the image at path, opened read-only and
    alone, then closed. A refused open leaves the daemon as it was; a failure
    once the image is open stops it."""
    node = daemon.new_name("r")
    daemon.session.execute("blockdev-add", node_options(node, path, None, fmt, read_only=True))
    try:
        nodes = daemon.session.execute("query-named-block-nodes", {"flat": True})
        daemon.close([node])
    except BaseException:
        stop()
        raise
    return named(nodes, node)


def create(
    tools,
    path,
    *,
    virtual_size,
    fmt="qcow2",
    size=None,
    cluster_size=None,
    compat=None,
    backing=None,
    backing_fmt=None,
):
    """qemu_img.create's image at path, made by the kept daemon (blockdev-create):
    qemu-img create runs the same code of qemu's to make it
    (tests/fixtures/test_chain_daemon.py compares them). size is left to
    virtual_size, which qemu-img reads from backing."""
    daemon = get(tools)
    try:
        if fmt == "raw":
            _made(daemon, {"driver": "file", "filename": path, "size": virtual_size})
            return
        _empty_file(daemon, path)
        # The file node inline: qemu opens it for the job and closes it after.
        file = {"driver": "file", "filename": path}
        options = {"driver": "qcow2", "file": file, "size": virtual_size}
        if compat is not None:
            options["version"] = "v2" if compat == "0.10" else "v3"
        if cluster_size is not None:
            options["cluster-size"] = cluster_size
        if backing is not None:
            options["backing-file"], options["backing-fmt"] = backing, backing_fmt
        _made(daemon, options)
    except BaseException:
        stop()
        raise


def _empty_file(daemon, path):
    """The empty file qemu's file driver creates first (open with O_CREAT, mode 0644,
    truncated), made here: a job of its own and a node to open it cost the daemon
    four more commands. If it cannot be made here, qemu makes it, and says why not."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644))
    except OSError:
        _made(daemon, {"driver": "file", "filename": path, "size": 0})


def _made(daemon, options):
    """Run a blockdev-create job to its end; raise with qemu's reason if it failed."""
    job = daemon.new_name("j")
    session = daemon.session
    session.execute("blockdev-create", {"job-id": job, "options": options})
    session.wait_for("JOB_STATUS_CHANGE", id=job, status="concluded")
    error = next((j.get("error") for j in session.execute("query-jobs") if j["id"] == job), None)
    session.execute("job-dismiss", {"id": job})
    session.forget("JOB_STATUS_CHANGE", id=job)
    if error:
        raise command.CommandError(
            session.argv, command.Result(1, "", f"qemu could not create the image: {error}")
        )


def add_bitmaps_read_back(tools, path, bitmaps):
    """storage_daemon.add_bitmaps_read_back's steps and answer, in the kept daemon:
    the qcow2 image at path opened alone, bitmaps ((name, granularity or None,
    disabled) each) added in one transaction, closed (qemu stores them),
    opened again read-only so qemu reads back what it stored, and closed."""
    daemon = get(tools)
    try:
        if bitmaps:
            node = daemon.new_name("a")
            daemon.session.execute("blockdev-add", node_options(node, path, None))
            # qemu stores one transaction's new bitmaps in reverse order.
            daemon.session.transaction(
                [add_action(node, n, g, disabled=d) for n, g, d in reversed(bitmaps)]
            )
            daemon.close([node])
        again = _read_only_node(daemon, path)
    except BaseException:
        stop()
        raise
    return bitmaps_of(again)


_kept = None


def get(tools):
    """This process's daemon for tools' qemu, started on first use (a forked child
    starts its own, and one that died is replaced)."""
    global _kept
    kept = _kept
    if kept and kept.pid == os.getpid() and kept.binary == tools.qemu_storage_daemon:
        if kept.session.alive:
            return kept
    stop()
    _kept = Kept(tools)
    return _kept


def running():
    """This process's daemon if it has one running, else None."""
    kept = _kept
    return kept if kept and kept.pid == os.getpid() else None


@atexit.register
def stop():
    """Kill this process's daemon, if it has one. After an error, what the daemon
    holds open is unknown: the next use then starts a new one."""
    global _kept
    kept, _kept = _kept, None
    if kept and kept.pid == os.getpid():
        kept.stop()
