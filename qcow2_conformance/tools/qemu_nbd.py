"""qemu-nbd: qemu's own view of a bitmap's dirty bits.

A read-only export with the bitmap, read through qemu-img map with
x-dirty-bitmap, where dirty ranges show as "data": false.
"""

import contextlib
import os
import signal

from qcow2_conformance.tools import command, files, qemu_img


def dirty_extents(tools, image, bitmap, *, folder, fmt="qcow2", timeout=60):
    """Return the (offset, length) ranges qemu reports dirty in bitmap, in order.

    Touching ranges are left as qemu-img map gives them; callers merge.
    """
    if not tools.qemu_nbd:
        raise command.CommandError(
            [os.path.join(tools.bindir, "qemu-nbd")], command.Result(127, "", "qemu-nbd not found")
        )
    # A socket path is limited to 108 bytes, and folder may be deeper than that.
    sockets = files.mkdtemp(tools.host, "harness-nbd")
    socket = os.path.join(sockets, "nbd.sock")
    pidfile = os.path.join(folder, "nbd.pid")
    log = os.path.join(folder, "nbd.log")
    # Without --persistent, qemu-nbd serves one client and exits when it leaves.
    # Its output goes to a file: qemu-nbd 5.2's daemon keeps the pipes it was
    # given open, and a caller reading them would wait for ever.
    argv = [
        tools.qemu_nbd,
        "--read-only",
        "--fork",
        "-k",
        socket,
        "-B",
        bitmap,
        "-f",
        fmt,
        f"--pid-file={pidfile}",
        image,
    ]
    # Started inside the try: an interrupt (Ctrl-C) that lands while it starts
    # must still stop the daemon it may have left.
    try:
        started = command.run(
            tools.host,
            ["sh", "-c", 'log=$1; shift; exec "$@" > "$log" 2>&1', "sh", log, *argv],
            check=False,
            timeout=timeout,
        )
        if started.rc != 0:
            said = command.run(tools.host, ["cat", log], check=False).stdout
            raise command.CommandError(argv, command.Result(started.rc, "", said))
        mapper = qemu_img.nbd_dirty_map_argv(tools, socket, None, bitmap)
        out = command.run(tools.host, mapper, timeout=timeout)
    finally:
        _stop(tools.host, pidfile)
        files.remove(tools.host, sockets, pidfile, log)
    return qemu_img.parse_nbd_dirty_map(out.stdout)


def _stop(host, pidfile):
    if files.here(host):
        # What the command below does, without a shell started for it.
        with contextlib.suppress(OSError, ValueError):
            with open(pidfile, encoding="ascii") as f:
                pid = int(f.read().strip())
            # Never 0 or below: kill(2) would take those for process groups.
            if pid > 0:
                os.kill(pid, signal.SIGTERM)
        return
    command.run(
        host,
        ["sh", "-c", '[ -f "$1" ] && kill "$(cat "$1")" 2>/dev/null; true', "sh", pidfile],
        check=False,
    )
