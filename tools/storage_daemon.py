"""qemu-storage-daemon: QMP commands applied to one image in one process.

The commands go to the daemon's monitor on stdin, from a file on the host,
so a transaction of thousands of actions needs no huge command line.
"""

import json

from tools import command, files

NODE = "image"


def apply(tools, path, commands, *, script, timeout=None):
    """Open the qcow2 image at path alone (no backing), run QMP commands, quit.

    script is a scratch path on the host for the QMP input. Returns the list
    of return values; raises CommandError if any command failed.
    """
    # Deleting the node closes the image, which is when qemu stores persistent
    # bitmaps and reports a failure to do so. qemu 5.2 stores nothing on quit.
    close = {"execute": "blockdev-del", "arguments": {"node-name": NODE}}
    lines = [{"execute": "qmp_capabilities"}, *commands, close, {"execute": "quit"}]
    files.write_text(tools.host, script, "".join(json.dumps(c) + "\n" for c in lines))
    blockdev = {
        "driver": "qcow2",
        "node-name": NODE,
        "backing": None,
        "file": {"driver": "file", "filename": path},
    }
    argv = [
        tools.qemu_storage_daemon,
        "--blockdev",
        json.dumps(blockdev),
        "--chardev",
        "stdio,id=qmp",
        "--monitor",
        "chardev=qmp",
    ]
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
    return [a["return"] for a in answers[1:-2]]


def add_bitmaps(tools, path, bitmaps, *, script, timeout=None):
    """Add persistent bitmaps in one transaction.

    bitmaps: (name, granularity or None, disabled) tuples. qemu stores bitmaps
    added in one transaction in reverse order, after the ones already on
    disk; the actions are reversed so the image lists them in the given order.
    """
    actions = []
    for name, granularity, disabled in reversed(bitmaps):
        data = {"node": NODE, "name": name, "persistent": True, "disabled": disabled}
        if granularity is not None:
            data["granularity"] = granularity
        actions.append({"type": "block-dirty-bitmap-add", "data": data})
    if actions:
        apply(
            tools,
            path,
            [{"execute": "transaction", "arguments": {"actions": actions}}],
            script=script,
            timeout=timeout,
        )


def enable_bitmaps(tools, path, names, *, script, timeout=None):
    actions = [
        {"type": "block-dirty-bitmap-enable", "data": {"node": NODE, "name": n}} for n in names
    ]
    if actions:
        apply(
            tools,
            path,
            [{"execute": "transaction", "arguments": {"actions": actions}}],
            script=script,
            timeout=timeout,
        )
