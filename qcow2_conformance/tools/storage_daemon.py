"""qemu-storage-daemon: QMP commands applied to one image in one process.

The commands go to the daemon's monitor on stdin: piped from the command
line when they are short (one command), else from a file on the host, so a
transaction of thousands of actions needs no huge command line.

qemu reads its monitor's input one byte per turn of its main loop (strace
of a transaction of 1350 actions: 186,088 reads of one byte, about 3 us
each), so the input is written as short as QMP allows: compact JSON, short
node names, no argument that repeats qemu's default.
"""

import json
import os
from dataclasses import dataclass

from qcow2_conformance.tools import command, files

NODE = "i"

# Below the kernel's limit for one argument (MAX_ARG_STRLEN, 128 KiB).
PIPED = 64 * 1024


def apply(tools, path, commands, *, script, timeout=None):
    """Open the qcow2 image at path alone (no backing), run QMP commands, quit.

    script is a scratch path on the host for the QMP input. Returns the list
    of return values; raises CommandError if any command failed.
    """
    return apply_to(tools, [(NODE, path, False)], commands, script=script, timeout=timeout)


def apply_to(tools, images, commands, *, script, timeout=None):
    """Like apply, for several images: (node name, path, read_only) each, none with its backing.

    Commands name the images by their node names, so one transaction can
    span them (a bitmap merge from one image into another).
    """
    # Deleting the nodes closes the images, which is when qemu stores
    # persistent bitmaps and reports a failure to do so. qemu 5.2 stores
    # nothing on quit.
    close = [{"execute": "blockdev-del", "arguments": {"node-name": n}} for n, _, _ in images]
    lines = [{"execute": "qmp_capabilities"}, *commands, *close, {"execute": "quit"}]
    qmp = "".join(json.dumps(c, separators=(",", ":")) + "\n" for c in lines)
    argv = [tools.qemu_storage_daemon]
    for node, path, read_only in images:
        blockdev = {
            "driver": "qcow2",
            "node-name": node,
            "backing": None,
            "read-only": read_only,
            "file": {"driver": "file", "filename": path, "read-only": read_only},
        }
        argv += ["--blockdev", json.dumps(blockdev)]
    argv += ["--chardev", "stdio,id=qmp", "--monitor", "chardev=qmp"]
    if len(qmp) <= PIPED:
        piped = ["sh", "-c", 'qmp=$1; shift; printf %s "$qmp" | "$@"', "sh", qmp, *argv]
        out = command.run(tools.host, piped, timeout=timeout)
    else:
        files.write_text(tools.host, script, qmp)
        try:
            out = command.run(tools.host, argv, stdin=script, timeout=timeout)
        finally:
            files.remove(tools.host, script)
    replies = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    answers = [r for r in replies if "return" in r or "error" in r]
    errors = [r["error"]["desc"] for r in answers if "error" in r]
    if errors or len(answers) != len(lines):
        raise command.CommandError(
            argv,
            command.Result(
                1, out.stdout, errors[0] if errors else "qemu-storage-daemon ended early"
            ),
        )
    return [a["return"] for a in answers[1 : 1 + len(commands)]]


def add_bitmaps(tools, path, bitmaps, *, script, timeout=None):
    """Add persistent bitmaps in one transaction.

    bitmaps: (name, granularity or None, disabled) tuples. qemu stores bitmaps
    added in one transaction in reverse order, after the ones already on
    disk; the actions are reversed so the image lists them in the given order.
    """
    actions = [
        add_action(NODE, name, granularity, disabled=disabled)
        for name, granularity, disabled in reversed(bitmaps)
    ]
    transaction(tools, [(NODE, path, False)], actions, script=script, timeout=timeout)


def enable_bitmaps(tools, path, names, *, script, timeout=None):
    actions = [
        {"type": "block-dirty-bitmap-enable", "data": {"node": NODE, "name": n}} for n in names
    ]
    transaction(tools, [(NODE, path, False)], actions, script=script, timeout=timeout)


def add_action(node, name, granularity=None, *, disabled=False):
    """A transaction action that adds persistent bitmap name to node."""
    data = {"node": node, "name": name, "persistent": True}
    if disabled:
        data["disabled"] = True
    if granularity is not None:
        data["granularity"] = granularity
    return {"type": "block-dirty-bitmap-add", "data": data}


def merge_action(node, name, sources):
    """A transaction action that merges sources ((node, name) pairs) into node's bitmap name."""
    bitmaps = [{"node": n, "name": b} for n, b in sources]
    return {
        "type": "block-dirty-bitmap-merge",
        "data": {"node": node, "target": name, "bitmaps": bitmaps},
    }


def transaction(tools, images, actions, *, script, timeout=None):
    """Apply actions to images ((node, path, read_only) each) in one QMP transaction.

    qemu applies all of them or none.
    """
    if actions:
        apply_to(
            tools,
            images,
            [{"execute": "transaction", "arguments": {"actions": actions}}],
            script=script,
            timeout=timeout,
        )


# --- A chain exported over NBD, as a backup application reads it. ---

# Starts the daemon in the background with its QMP input, then waits until
# it has answered every command (or died), and prints its pid then its log.
# The writer keeps the daemon's stdin open until the stop file appears, then
# sends quit: the daemon ends the way apply_to's does, closing every image.
# Everything it starts carries the caller's mark (tools/processes.py). The
# writer is a subshell, not a { } group: dash keeps a copy of a group's
# redirected stderr open in it, which would hold the caller's pipe open.
_START = r"""
qmp=$1 stop=$2 log=$3 want=$4; shift 4
rm -f -- "$stop"
(printf %s "$qmp"; while [ ! -e "$stop" ]; do sleep 0.01; done
  printf '{"execute":"quit"}\n') </dev/null 2>/dev/null | "$@" >"$log" 2>&1 &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
    [ "$(grep -c -e '"return"' -e '"error"' "$log")" -ge "$want" ] && break
    sleep 0.005
done
echo "$pid"
cat -- "$log"
"""

# Waits until a pid is gone; a zombie counts as gone (its parent may never reap it).
_GONE = r"""
touch -- "$1"
while [ -e "/proc/$2" ] && ! grep -q ') Z' "/proc/$2/stat" 2>/dev/null; do sleep 0.005; done
"""

EXPORT_NAME = "b"
TEMP_BITMAP = "backup-tmp"


@dataclass(frozen=True)
class Export:
    """A running qemu-storage-daemon that exports a chain's top over NBD."""

    pid: str
    uri: str  # nbd+unix:///EXPORT?socket=PATH
    bitmap: str | None  # the exported temporary bitmap, None: a full backup
    stop: str  # creating this file makes the daemon quit
    mark: str  # carried by every process of the daemon


def export_chain(tools, images, socket, *, sources=(), granularity=None, mark, timeout=None):
    """Open images (paths, base first) read-only as one chain, export the top over NBD.

    sources: the (index into images, bitmap name) pairs to merge into a
    temporary bitmap on the top node (persistent false, disabled: it
    records nothing), which the export publishes as
    qemu:dirty-bitmap:TEMP_BITMAP; none: no bitmap (a full backup).
    granularity is the temporary bitmap's (None: qemu's default). socket is
    a UNIX socket path, at most 107 bytes. Returns an Export once the daemon
    serves it; stop it with stop_export (or processes.kill_marked(mark)).
    """
    nodes = [f"n{i}" for i in range(len(images))]
    argv = [tools.qemu_storage_daemon]
    for i, path in enumerate(images):
        blockdev = {
            "driver": "qcow2",
            "node-name": nodes[i],
            "read-only": True,
            "backing": nodes[i - 1] if i else None,
            "file": {"driver": "file", "filename": path, "read-only": True},
        }
        argv += ["--blockdev", json.dumps(blockdev, separators=(",", ":"))]
    argv += ["--chardev", "stdio,id=qmp", "--monitor", "chardev=qmp"]
    top = nodes[-1]
    commands = [{"execute": "qmp_capabilities"}]
    export = {"type": "nbd", "id": "e", "node-name": top, "name": EXPORT_NAME}
    if sources:
        add = {"node": top, "name": TEMP_BITMAP, "persistent": False, "disabled": True}
        if granularity is not None:
            add["granularity"] = granularity
        actions = [
            {"type": "block-dirty-bitmap-add", "data": add},
            merge_action(top, TEMP_BITMAP, [(nodes[i], name) for i, name in sources]),
        ]
        commands.append({"execute": "transaction", "arguments": {"actions": actions}})
        export["bitmaps"] = [TEMP_BITMAP]
    commands += [
        {
            "execute": "nbd-server-start",
            "arguments": {"addr": {"type": "unix", "data": {"path": socket}}},
        },
        {"execute": "block-export-add", "arguments": export},
    ]
    qmp = "".join(json.dumps(c, separators=(",", ":")) + "\n" for c in commands)
    folder = os.path.dirname(socket)
    stop, log = os.path.join(folder, "stop"), os.path.join(folder, "qsd.log")
    script = ["sh", "-c", _START, "sh", qmp, stop, log, str(len(commands)), *argv]
    out = command.run(tools.host, script, timeout=timeout, mark=mark)
    pid, _, said = out.stdout.partition("\n")
    replies = [json.loads(line) for line in said.splitlines() if line.startswith("{")]
    answers = [r for r in replies if "return" in r or "error" in r]
    errors = [r["error"]["desc"] for r in answers if "error" in r]
    started = Export(pid.strip(), _uri(socket), TEMP_BITMAP if sources else None, stop, mark)
    if errors or len(answers) != len(commands):
        stop_export(tools, started, timeout=timeout)
        raise command.CommandError(
            argv,
            command.Result(
                1, said, errors[0] if errors else f"qemu-storage-daemon ended early: {said}"
            ),
        )
    return started


def stop_export(tools, export, *, timeout=None):
    """Make the daemon quit and wait until it is gone, so its image locks are too."""
    command.run(tools.host, ["sh", "-c", _GONE, "sh", export.stop, export.pid], timeout=timeout)


def _uri(socket):
    return f"nbd+unix:///{EXPORT_NAME}?socket={socket}"
