"""qemu-storage-daemon: QMP commands applied to one image in one process.

The commands go to the daemon's monitor on stdin: from a file on the host,
so a transaction of thousands of actions needs no huge command line, or,
on an ssh target when they are short, piped from the command line (one
command, not two).

qemu reads its monitor's input one byte per turn of its main loop (strace
of a transaction of 1350 actions: 186,088 reads of one byte, about 3 us
each), so the input is written as short as QMP allows: compact JSON, short
node names, no argument that repeats qemu's default.
"""

import json
import os
import shlex

from qcow2_conformance.tools import command, files, processes, qemu_img

NODE = "i"

# Below the kernel's limit for one argument (MAX_ARG_STRLEN, 128 KiB).
PIPED = 64 * 1024


def apply(tools, path, commands, *, script, timeout=None):
    """Open the qcow2 image at path alone (no backing), run QMP commands, quit.

    script is a scratch path on the host for the QMP input. Returns the list
    of return values; raises CommandError if any command failed.
    """
    return apply_to(tools, [(NODE, path, False)], commands, script=script, timeout=timeout)


def apply_to(tools, images, commands, *, script, timeout=None, open_at_end=None):
    """Like apply, for several images: (node name, path, read_only) each, none with its backing.

    Commands name the images by their node names, so one transaction can
    span them (a bitmap merge from one image into another). open_at_end:
    the node names open when the commands are done (default: the images'),
    closed before the daemon quits.
    """
    # Deleting the nodes closes the images, which is when qemu stores
    # persistent bitmaps and reports a failure to do so. qemu 5.2 stores
    # nothing on quit.
    if open_at_end is None:
        open_at_end = [n for n, _, _ in images]
    close = [{"execute": "blockdev-del", "arguments": {"node-name": n}} for n in open_at_end]
    lines = [{"execute": "qmp_capabilities"}, *commands, *close, {"execute": "quit"}]
    qmp = _qmp_text(lines)
    argv = _daemon_argv(tools, [(node, path, read_only, None) for node, path, read_only in images])
    # On this machine the file costs no command, and the daemon then needs no sh.
    if len(qmp) <= PIPED and not files.here(tools.host):
        piped = ["sh", "-c", 'qmp=$1; shift; printf %s "$qmp" | "$@"', "sh", qmp, *argv]
        out = command.run(tools.host, piped, timeout=timeout)
    else:
        files.write_text(tools.host, script, qmp)
        try:
            out = command.run(tools.host, argv, stdin=script, timeout=timeout)
        finally:
            files.remove(tools.host, script)
    answers, errors = _answers(out.stdout)
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


def add_bitmaps_read_back(tools, path, bitmaps, *, script, timeout=None):
    """add_bitmaps, then, in the same daemon, close the image (qemu stores the bitmaps)
    and open it again, read-only, so qemu reads back what it stored.

    Returns the bitmaps qemu read from the file: (name, granularity,
    recording, inconsistent) each, in qemu's order (not the image's).
    """
    actions = [
        add_action(NODE, name, granularity, disabled=disabled)
        for name, granularity, disabled in reversed(bitmaps)
    ]
    again = "r"
    reopen = {
        "driver": "qcow2",
        "node-name": again,
        "backing": None,
        "read-only": True,
        "file": {"driver": "file", "filename": path, "read-only": True},
    }
    commands = [
        {"execute": "transaction", "arguments": {"actions": actions}},
        {"execute": "blockdev-del", "arguments": {"node-name": NODE}},
        {"execute": "blockdev-add", "arguments": reopen},
        {"execute": "query-named-block-nodes", "arguments": {"flat": True}},
    ]
    answers = apply_to(
        tools,
        [(NODE, path, False)],
        commands,
        script=script,
        timeout=timeout,
        open_at_end=[again],
    )
    return bitmaps_of(named(answers[-1], again))


def named(nodes, name):
    """The entry of node name in query-named-block-nodes's answer nodes."""
    (node,) = [n for n in nodes if n.get("node-name") == name]
    return node


def bitmaps_of(node):
    """(name, granularity, recording, inconsistent) of each bitmap of node, an entry
    of query-named-block-nodes's answer."""
    return [
        (b["name"], b["granularity"], b["recording"], b.get("inconsistent", False))
        for b in node.get("dirty-bitmaps", [])
    ]


# Started in the background so this shell can kill it, and wait for it: once
# wait returns, its last thread is gone, and its image locks with it. The
# pid file appears once every image is open (qemu writes it once the block
# devices of its command line are open; the build checks what it left).
_OPEN_AND_KILL = r"""
pidfile=$1 log=$2; shift 2
rm -f -- "$pidfile" "$log"
"$@" --pidfile "$pidfile" </dev/null >"$log" 2>&1 &
pid=$!
while [ ! -s "$pidfile" ] && kill -0 "$pid" 2>/dev/null; do sleep 0.005; done
if [ -s "$pidfile" ]; then
    kill -9 "$pid"; wait "$pid"; rm -f -- "$pidfile" "$log"; exit 0
fi
wait "$pid"; cat -- "$log" >&2; rm -f -- "$pidfile" "$log"; exit 1
"""

# qemu-storage-daemon's --pidfile came with qemu 6.0.
PIDFILE_SINCE = (6, 0)


def open_and_kill(tools, paths, *, folder, timeout=None):
    """Open the qcow2 images at paths read-write (none with its backing) in one daemon,
    then kill it (SIGKILL) once all are open.

    Every bitmap on disk keeps its in-use flag, as a crashed writer leaves
    it: qemu_io.open_and_die for several images in one process. folder
    takes the daemon's pid file and log for the while.
    """
    images = [(f"{NODE}{i}", path, False, None) for i, path in enumerate(paths)]
    argv = _daemon_argv(tools, images, monitor=False)
    pidfile, log = os.path.join(folder, ".qsd.pid"), os.path.join(folder, ".qsd.log")
    script = ["sh", "-c", _OPEN_AND_KILL, "sh", pidfile, log, *argv]
    out = command.run(tools.host, script, check=False, timeout=timeout)
    if out.rc != 0:
        raise command.CommandError(argv, command.Result(out.rc, "", out.stderr.strip()))


def add_action(node, name, granularity=None, *, disabled=False):
    """A transaction action that adds persistent bitmap name to node."""
    data = {"node": node, "name": name, "persistent": True}
    if disabled:
        data["disabled"] = True
    if granularity is not None:
        data["granularity"] = granularity
    return {"type": "block-dirty-bitmap-add", "data": data}


def toggle_action(node, name, *, enable):
    """A transaction action that enables (or disables) node's bitmap name."""
    kind = "block-dirty-bitmap-enable" if enable else "block-dirty-bitmap-disable"
    return {"type": kind, "data": {"node": node, "name": name}}


def merge_action(node, name, sources):
    """A transaction action that merges sources ((node, name) pairs) into node's bitmap name."""
    bitmaps = [{"node": n, "name": b} for n, b in sources]
    return {
        "type": "block-dirty-bitmap-merge",
        "data": {"node": node, "target": name, "bitmaps": bitmaps},
    }


def merged_actions(node, name, granularity, sources):
    """Transaction actions that merge sources ((node, name) pairs) into a new bitmap
    name of node that lives in memory only and records nothing (granularity
    None: qemu's default)."""
    add = {"node": node, "name": name, "persistent": False, "disabled": True}
    if granularity is not None:
        add["granularity"] = granularity
    return [{"type": "block-dirty-bitmap-add", "data": add}, merge_action(node, name, sources)]


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


def node_options(node, path, backing, fmt="qcow2", *, read_only=False, cache=None):
    """blockdev-add's arguments for the image at path as node (qcow2 unless fmt says
    otherwise) over the node backing (None: no backing), its file node read-only
    too when it is. cache goes on the node alone: its file node inherits it.
    Defaults are left out: a kept daemon reads its monitor a byte at a time,
    about 5 us of its CPU a byte (docs/benchmarks.md)."""
    blockdev = {"driver": fmt, "node-name": node}
    if fmt != "raw":  # a raw node has no backing to name
        blockdev["backing"] = backing
    file = {"driver": "file", "filename": path}
    if read_only:
        blockdev["read-only"] = file["read-only"] = True
    if cache is not None:
        blockdev["cache"] = cache
    blockdev["file"] = file
    return blockdev


def _daemon_argv(tools, images, *, monitor=True):
    """qemu-storage-daemon's argv: each (node, path, read_only, backing node or None[,
    format]) a node (qcow2 unless a format is given), and its monitor on stdin and stdout."""
    argv = [tools.qemu_storage_daemon]
    for node, path, read_only, backing, *fmt in images:
        blockdev = node_options(node, path, backing, *fmt, read_only=read_only)
        argv += ["--blockdev", json.dumps(blockdev, separators=(",", ":"))]
    if not monitor:
        return argv
    return argv + ["--chardev", "stdio,id=qmp", "--monitor", "chardev=qmp"]


def _qmp_text(commands):
    """The QMP input of commands, one short line each (qemu reads it a byte at a time)."""
    return "".join(json.dumps(c, separators=(",", ":")) + "\n" for c in commands)


def _answers(output):
    """(the answers to commands, the error descriptions among them) in the daemon's output;
    events are neither."""
    replies = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    answers = [r for r in replies if "return" in r or "error" in r]
    return answers, [r["error"]["desc"] for r in answers if "error" in r]


# --- A chain exported over NBD, as a backup application reads it. ---

# One command does it all, because every command costs a process start (and
# on an ssh target a round trip): start the daemon in the background with
# its monitor on two FIFOs, write its QMP input, read its answers as qemu
# writes them, run each client (a shell line) once it has answered every
# command, then make it quit and wait until it is gone, so its image locks
# are too. The output is each client's stdout, then the daemon's log, each
# after a separator line. A failed client ends the clients; its status is
# the command's, its stderr the command's stderr. Last comes the daemon's
# exit status, so a daemon that ended early says how (a status of its own,
# or 128 + the signal that killed it).
# Reading the answers from a FIFO takes shell builtins only: polling a log
# for them (grep and sleep until they were there, sleep until the clients
# were done) started a dozen programs a serve and waited 5 to 10 ms for
# nothing at each end. Both ends open the FIFOs in the same order (input,
# then output), as opening one end waits for the other.
# The daemon is waited for, not watched in /proc: this shell is its parent,
# so wait returns once its last thread is gone and its image locks with it
# (the kernel may show a multi-threaded process's leader as Z before its
# last thread, which holds the files, is gone), and it cannot mistake a
# process that took the daemon's reaped pid (pid_max is 32768 here) for it.
# A write to a daemon that has ended would kill this shell (SIGPIPE): each
# goes through a subshell that ignores the signal, as an ignored signal
# would stay ignored in the clients.
_SERVE = r"""
qmp=$1 socket=$2 want=$3 sep=$4 n=$5; shift 5
i=0; while [ "$i" -lt "$n" ]; do eval "client$i=\$1"; shift; i=$((i + 1)); done
dir=${socket%/*}; into=$dir/qsd.in said=$dir/qsd.out log=$dir/qsd.log
# The FIFOs of an earlier serve in this folder serve again; qemu replaces a
# socket left at its path.
if [ ! -p "$into" ] || [ ! -p "$said" ]; then
    rm -f -- "$into" "$said" && mkfifo -- "$into" "$said" || exit 1
fi
"$@" <"$into" >"$said" 2>&1 &
pid=$!
exec 5>"$into" 6<"$said" 4>"$log"
(trap '' PIPE; printf %s "$qmp" >&5) 2>/dev/null
got=0 refused=
while [ "$got" -lt "$want" ] && IFS= read -r line <&6; do
    printf '%s\n' "$line" >&4
    case $line in
    *'"error"'*) got=$((got + 1)) refused=1 ;;
    *'"return"'*) got=$((got + 1)) ;;
    esac
done
rc=0
if [ "$got" -ge "$want" ] && [ -z "$refused" ]; then
    i=0; while [ "$i" -lt "$n" ]; do
        eval "line=\$client$i"
        echo "$sep"
        eval "$line" </dev/null 4>&- 5>&- 6<&- || { rc=$?; break; }
        i=$((i + 1))
    done
fi
(trap '' PIPE; printf '{"execute":"quit"}\n' >&5) 2>/dev/null
exec 5>&-
while IFS= read -r line <&6 || [ -n "$line" ]; do printf '%s\n' "$line" >&4; done
exec 6<&- 4>&-
wait "$pid"; status=$?
echo "$sep"
while IFS= read -r line || [ -n "$line" ]; do printf '%s\n' "$line"; done <"$log"
echo "$sep"
echo "$status"
exit "$rc"
"""

EXPORT_NAME = "b"
TEMP_BITMAP = "backup-tmp"


class Refused(command.CommandError):
    """qemu-storage-daemon refused a QMP command (or ended before answering them all)."""


def export_uri(socket):
    """The NBD URI of serve_chain's export on the UNIX socket at socket."""
    return f"nbd+unix:///{EXPORT_NAME}?socket={socket}"


def serve_chain(
    tools,
    images,
    socket,
    clients,
    *,
    sources=(),
    granularity=None,
    timeout=None,
    mark=command.FRESH,
):
    """Export a chain's top over NBD while clients run; return each client's stdout.

    images: paths, base first, opened read-only as one chain ("backing"
    links the nodes). sources: (index into images, bitmap name) pairs merged
    into a temporary bitmap TEMP_BITMAP on the top node (persistent false,
    disabled: it records nothing), which the export publishes as
    qemu:dirty-bitmap:TEMP_BITMAP; none: no bitmap (a full backup).
    granularity is the temporary bitmap's (None: qemu's default). socket: a
    UNIX socket path of at most 107 bytes, in a folder of the caller's that
    also takes the daemon's log and the two FIFOs of its monitor (left for
    the next serve in that folder). clients: argument lists, run one after the
    other at export_uri(socket). Raises Refused if the daemon refused a
    command (with qemu's message), CommandError if a client failed; either
    way the daemon is gone. mark: the processes' mark (tools/processes.py).
    """
    nodes = [f"n{i}" for i in range(len(images))]
    argv = _daemon_argv(
        tools,
        [(nodes[i], path, True, nodes[i - 1] if i else None) for i, path in enumerate(images)],
    )
    top = nodes[-1]
    commands = [{"execute": "qmp_capabilities"}]
    export = {"type": "nbd", "id": "e", "node-name": top, "name": EXPORT_NAME}
    if sources:
        actions = merged_actions(
            top, TEMP_BITMAP, granularity, [(nodes[i], name) for i, name in sources]
        )
        commands.append({"execute": "transaction", "arguments": {"actions": actions}})
        export["bitmaps"] = [TEMP_BITMAP]
    address = {"type": "unix", "data": {"path": socket}}
    commands += [
        {"execute": "nbd-server-start", "arguments": {"addr": address}},
        {"execute": "block-export-add", "arguments": export},
    ]
    return _serve(tools, argv, commands, socket, clients, timeout=timeout, mark=mark)


def merged_dirty_maps(tools, images, merges, socket, *, timeout=None, mark=command.FRESH):
    """qemu's own merges of bitmaps, each read back by qemu-img map; one command in all.

    images: (path, format) pairs, base first, opened read-only as one chain.
    merges: (index into images, granularity, sources) each, sources being
    (index into images, bitmap name) pairs: qemu merges them into a new
    disabled, non-persistent bitmap of that image (every source must have
    its size), exports the image over NBD with it, and qemu-img map reads
    it back. Returns, per merge, the (offset, length) ranges qemu reports
    dirty, in order, touching ones as qemu-img map gives them. socket: as
    serve_chain's. Raises Refused if qemu refused a merge.
    """
    nodes = [f"n{i}" for i in range(len(images))]
    argv = _daemon_argv(
        tools,
        [
            (nodes[i], path, True, nodes[i - 1] if i else None, fmt)
            for i, (path, fmt) in enumerate(images)
        ],
    )
    actions, exports, clients = [], [], []
    for m, (target, granularity, sources) in enumerate(merges):
        name = f"m{m}"
        actions += merged_actions(
            nodes[target], name, granularity, [(nodes[i], b) for i, b in sources]
        )
        export = {"type": "nbd", "id": name, "node-name": nodes[target], "name": name}
        exports.append({"execute": "block-export-add", "arguments": {**export, "bitmaps": [name]}})
        clients.append(qemu_img.nbd_dirty_map_argv(tools, socket, name, name))
    address = {"type": "unix", "data": {"path": socket}}
    commands = [
        {"execute": "qmp_capabilities"},
        {"execute": "transaction", "arguments": {"actions": actions}},
        {"execute": "nbd-server-start", "arguments": {"addr": address}},
        *exports,
    ]
    outputs = _serve(tools, argv, commands, socket, clients, timeout=timeout, mark=mark)
    return [qemu_img.parse_nbd_dirty_map(out) for out in outputs]


def _serve(tools, argv, commands, socket, clients, *, timeout, mark):
    """Run the daemon (argv) with its QMP commands, then clients while it serves; each
    client's stdout."""
    qmp = _qmp_text(commands)
    separator = f"--- {command.new_mark()} ---"
    lines = [shlex.join(str(a) for a in client) for client in clients]
    script = [
        "sh", "-c", _SERVE, "sh", qmp, socket, str(len(commands)), separator, str(len(lines)),
        *lines, *argv,
    ]  # fmt: skip
    if mark is command.FRESH:
        mark = command.new_mark()  # known here, to find what a killed shell left
    out = command.run(tools.host, script, check=False, timeout=timeout, mark=mark)
    if out.timed_out:
        # The command returns once its shell is gone; a daemon that took the
        # SIGTERM may still be closing its images (seen on CI under load).
        if mark is not None:
            processes.left_behind(tools.host, mark)
        why = f"timed out after {timeout} s; the daemon and its clients were killed"
        raise command.CommandError(argv, command.Result(out.rc, "", why, timed_out=True))
    parts = out.stdout.split(separator + "\n")
    if len(parts) < 3 or not parts[-1].strip().isdigit():
        # The shell itself was killed before the daemon's end: it may still run.
        left = processes.kill_marked(tools.host, mark) if mark is not None else {}
        why = (
            f"the backup's shell ended before the daemon did (exit status {out.rc});"
            f" {len(left)} process(es) it left were killed"
        )
        raise command.CommandError(argv, command.Result(out.rc, "", why))
    said, status, outputs = parts[-2], parts[-1].strip(), parts[1:-2]
    answers, errors = _answers(said)
    if errors or len(answers) < len(commands):
        why = errors[0] if errors else _ended_early(status, len(answers), len(commands), said)
        raise Refused(argv, command.Result(1, said, why))
    if out.rc != 0 or len(outputs) != len(clients):
        failed = clients[max(len(outputs) - 1, 0)]
        said = outputs[-1] if outputs else ""
        raise command.CommandError(failed, command.Result(out.rc, said, out.stderr))
    return outputs


def _ended_early(status, answered, asked, said):
    """One line: how the daemon ended, how far it got, and what it said."""
    code = int(status) if status.isdigit() else None
    how = f"killed by signal {code - 128}" if code and code > 128 else f"exit status {status}"
    return (
        f"qemu-storage-daemon ended early ({how}) after answering {answered} of {asked}"
        f" QMP commands; its log: {said.strip() or '(empty)'}"
    )
