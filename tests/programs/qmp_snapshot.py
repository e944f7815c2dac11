#!/usr/bin/env python3
"""Conformant: takes the snapshot the way a tool driving qemu-storage-daemon does.

It creates OVERLAY under a temporary name, starts qemu-storage-daemon on it
with its QMP monitor on a UNIX socket in a tempfile.mkdtemp() folder (so
under TMPDIR), adds every recording, consistent bitmap of ACTIVE in one
transaction over QMP, closes the image (blockdev-del: qemu 5.2 stores no
bitmap on quit alone), quits, and names OVERLAY only then. It refuses an
existing OVERLAY and removes its temporary files whatever happens.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

QEMU_IMG = os.environ.get("QEMU_IMG", "qemu-img")
NODE = "overlay"


def storage_daemon():
    beside = os.path.join(os.path.dirname(QEMU_IMG), "qemu-storage-daemon")
    if os.access(beside, os.X_OK):
        return beside
    return shutil.which("qemu-storage-daemon") or sys.exit("qemu-storage-daemon not found")


def qemu_img(*args):
    return subprocess.run([QEMU_IMG, *args], check=True, capture_output=True, text=True).stdout


class Monitor:
    """A QMP connection: one command at a time, events skipped."""

    def __init__(self, path, daemon):
        self.sock = socket.socket(socket.AF_UNIX)
        for _ in range(100):
            try:
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if daemon.poll() is not None:
                    raise RuntimeError(
                        "qemu-storage-daemon exited before its monitor opened"
                    ) from None
                time.sleep(0.05)
        else:
            raise RuntimeError("qemu-storage-daemon's monitor never opened")
        self.replies = self.sock.makefile("rb")
        self.read()  # the greeting
        self.execute("qmp_capabilities")

    def read(self):
        while True:
            line = self.replies.readline()
            if not line:
                raise RuntimeError("qemu-storage-daemon closed its monitor")
            message = json.loads(line)
            if "event" not in message:
                return message

    def execute(self, command, **arguments):
        self.sock.sendall(json.dumps({"execute": command, "arguments": arguments}).encode() + b"\n")
        reply = self.read()
        if "error" in reply:
            raise RuntimeError(f"{command}: {reply['error']['desc']}")
        return reply["return"]


def add_bitmaps(path, bitmaps):
    sockets = tempfile.mkdtemp()
    qmp = os.path.join(sockets, "qmp.sock")
    blockdev = {
        "driver": "qcow2",
        "node-name": NODE,
        "backing": None,
        "file": {"driver": "file", "filename": path},
    }
    daemon = subprocess.Popen(
        [
            storage_daemon(),
            "--blockdev",
            json.dumps(blockdev),
            "--chardev",
            f"socket,id=qmp,path={qmp},server=on,wait=off",
            "--monitor",
            "chardev=qmp",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    try:
        monitor = Monitor(qmp, daemon)
        actions = [
            {
                "type": "block-dirty-bitmap-add",
                "data": {
                    "node": NODE,
                    "name": b["name"],
                    "granularity": b["granularity"],
                    "persistent": True,
                },
            }
            for b in bitmaps
        ]
        if actions:
            monitor.execute("transaction", actions=actions)
        monitor.execute("blockdev-del", **{"node-name": NODE})
        monitor.execute("quit")
        if daemon.wait(timeout=60) != 0:
            raise RuntimeError(f"qemu-storage-daemon exited with status {daemon.returncode}")
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        shutil.rmtree(sockets)


def carried(image_info):
    bitmaps = image_info.get("format-specific", {}).get("data", {}).get("bitmaps", [])
    return [b for b in bitmaps if "auto" in b["flags"] and "in-use" not in b["flags"]]


def snapshot(active, overlay):
    if os.path.lexists(overlay):
        raise RuntimeError(f"{overlay} exists; not replacing it")
    # Without -U this fails while a VM holds ACTIVE open.
    info = json.loads(qemu_img("info", "--output=json", active))
    wanted = carried(info)
    partial = tempfile.mktemp(prefix=".partial-", dir=os.path.dirname(overlay))
    try:
        qemu_img("create", "-q", "-f", "qcow2", "-b", active, "-F", info["format"], partial)
        add_bitmaps(partial, wanted)
        made = carried(json.loads(qemu_img("info", "--output=json", partial)))
        if sorted(b["name"] for b in made) != sorted(b["name"] for b in wanted):
            raise RuntimeError(f"qemu stored {len(made)} bitmaps, {len(wanted)} were added")
        os.link(partial, overlay)  # unlike rename, never replaces a file
    finally:
        if os.path.lexists(partial):
            os.unlink(partial)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: qmp_snapshot.py ACTIVE OVERLAY")
    try:
        snapshot(*sys.argv[1:])
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        stderr = getattr(e, "stderr", "") or ""
        sys.exit(f"error: {e} {stderr.strip()}")


if __name__ == "__main__":
    main()
