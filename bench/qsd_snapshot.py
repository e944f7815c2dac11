"""The least a correct snapshot costs: the baseline of bench/carry_bitmaps.py.

    python3 bench/qsd_snapshot.py ACTIVE OVERLAY

One qemu-img info of ACTIVE, one qemu-img create, one qemu-storage-daemon
transaction adding the recording, consistent bitmaps: the qemu work the
reference does, without its checks (existing OVERLAY, locks, reading the
result back, the temporary name) and without testinfra. Standard library
only, so its start-up is that of a bare Python. Not a tool to use: it can
leave a half-made OVERLAY.
"""

import json
import os
import subprocess
import sys


def main(active, overlay):
    qemu_img = os.environ.get("QEMU_IMG", "qemu-img")
    info = json.loads(
        subprocess.run(
            [qemu_img, "info", "--output=json", active], check=True, capture_output=True
        ).stdout
    )
    bitmaps = info.get("format-specific", {}).get("data", {}).get("bitmaps", [])
    carried = [b for b in bitmaps if "auto" in b["flags"] and "in-use" not in b["flags"]]
    subprocess.run(
        [
            qemu_img,
            "create",
            "-q",
            "-f",
            "qcow2",
            "-b",
            os.path.abspath(active),
            "-F",
            info["format"],
            overlay,
        ],
        check=True,
    )
    actions = [
        {
            "type": "block-dirty-bitmap-add",
            "data": {
                "node": "o",
                "name": b["name"],
                "granularity": b["granularity"],
                "persistent": True,
            },
        }
        for b in carried
    ]
    # blockdev-del closes the image, which is when qemu stores the bitmaps.
    qmp = [
        {"execute": "qmp_capabilities"},
        {"execute": "transaction", "arguments": {"actions": actions}},
        {"execute": "blockdev-del", "arguments": {"node-name": "o"}},
        {"execute": "quit"},
    ]
    blockdev = {
        "driver": "qcow2",
        "node-name": "o",
        "backing": None,
        "file": {"driver": "file", "filename": overlay},
    }
    qsd = (
        os.path.join(os.path.dirname(qemu_img), "qemu-storage-daemon")
        if "/" in qemu_img
        else "qemu-storage-daemon"
    )
    out = subprocess.run(
        [
            qsd,
            "--blockdev",
            json.dumps(blockdev),
            "--chardev",
            "stdio,id=m",
            "--monitor",
            "chardev=m",
        ],
        check=True,
        capture_output=True,
        text=True,
        input="".join(json.dumps(c) + "\n" for c in qmp),
    ).stdout
    if '"error"' in out:
        sys.exit(f"qemu-storage-daemon: {out}")
    print(f"{overlay}: {len(carried)} bitmaps carried")


if __name__ == "__main__":
    main(*sys.argv[1:])
