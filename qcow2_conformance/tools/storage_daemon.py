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
