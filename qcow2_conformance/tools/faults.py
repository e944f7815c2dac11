"""Fault-injecting stand-ins for qemu-img and qemu-storage-daemon.

Each passes every call through to the real binary, except the k-th call it
watches (a 'qemu-img bitmap' call, or any daemon call): that one fails
before doing anything, or is done and then the wrapper dies by SIGKILL.
"""

import os

from qcow2_conformance.tools import command, files, toolset

WRAPPER = """#!/bin/sh
# {name}: passes every call to {real}, but call {k} of {watched} {mode}.
if {test}; then
    n=$(( $(cat "{counter}" 2>/dev/null || echo 0) + 1 ))
    echo "$n" > "{counter}"
    if [ "$n" -eq {k} ]; then
        {action}
    fi
fi
exec "{real}" "$@"
"""

ACTIONS = {
    "fails": 'echo "{name}: injected failure of call {k}" >&2; exit 1',
    "dies": '"{real}" "$@"; kill -9 $$',
}


def faulty_tools(tools, folder, k, mode):
    """A Toolset whose qemu-img and qemu-storage-daemon fail their k-th watched call."""
    files.mkdir(tools.host, folder)
    wrappers = [("qemu-img", tools.qemu_img, '[ "$1" = bitmap ]', "'qemu-img bitmap'")]
    if tools.qemu_storage_daemon:
        wrappers.append(
            ("qemu-storage-daemon", tools.qemu_storage_daemon, "true", "qemu-storage-daemon")
        )
    for name, real, test, watched in wrappers:
        fields = dict(
            name=name,
            real=real,
            k=k,
            mode=mode,
            watched=watched,
            test=test,
            counter=os.path.join(folder, f"{name}.calls"),
        )
        text = WRAPPER.format(action=ACTIONS[mode].format(**fields), **fields)
        path = os.path.join(folder, name)
        files.write_text(tools.host, path, text)
        command.run(tools.host, ["chmod", "+x", path])
    for real in (tools.qemu_io, tools.qemu_nbd):
        if real:
            command.run(
                tools.host, ["ln", "-sf", real, os.path.join(folder, os.path.basename(real))]
            )
    return toolset.find(tools.host, os.path.join(folder, "qemu-img"))


def calls(host, folder):
    """{wrapper name: calls it watched} so far."""
    counts = {}
    for name in ("qemu-img", "qemu-storage-daemon"):
        out = command.run(host, ["cat", os.path.join(folder, f"{name}.calls")], check=False)
        counts[name] = int(out.stdout.strip() or 0) if out.rc == 0 else 0
    return counts
