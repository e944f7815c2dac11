"""The snapshot procedure as an outside tool would write it, with hooks to break it.

Every faulty implementation in this folder is a small program that calls
snapshot() with one mistake. They run as `exec:` programs, exactly as a
user's tool would: PATH ACTIVE OVERLAY, with QEMU_IMG set by the harness.
"""

import json
import os
import subprocess
import sys


def qemu_img(*args):
    return subprocess.run(
        [os.environ.get("QEMU_IMG", "qemu-img"), *args], check=True, capture_output=True, text=True
    ).stdout


def qemu_io(*args):
    return subprocess.run(["qemu-io", *args], capture_output=True, text=True)


def info(path, *more):
    return json.loads(qemu_img("info", "--output=json", *more, path))


def bitmaps_of(image_info):
    return image_info.get("format-specific", {}).get("data", {}).get("bitmaps", [])


def carried(bitmap):
    return "auto" in bitmap["flags"] and "in-use" not in bitmap["flags"]


def snapshot(
    active,
    overlay,
    *,
    select=carried,
    bitmaps=None,
    stop_at_skip=False,
    granularity=True,
    add_options=(),
    size=None,
):
    """Create overlay on active and add a bitmap for each selected one."""
    active_info = info(active)
    create = ["create", "-q", "-f", "qcow2", "-b", active, "-F", active_info["format"], overlay]
    qemu_img(*create, *([str(size)] if size else []))
    for bitmap in bitmaps_of(active_info) if bitmaps is None else bitmaps:
        if not select(bitmap):
            if stop_at_skip:
                break
            continue
        options = ["-g", str(bitmap["granularity"])] if granularity else []
        qemu_img("bitmap", "--add", *options, *add_options, "--", overlay, bitmap["name"])
    return active_info


def on_carried_in_active(active, active_info, operation):
    """Run qemu-img bitmap OPERATION on each carried bitmap of ACTIVE itself."""
    for bitmap in bitmaps_of(active_info):
        if carried(bitmap):
            qemu_img("bitmap", operation, "--", active, bitmap["name"])


def main(body):
    """Run body(active, overlay) as a program; print what failed, exit 1."""
    try:
        body(*sys.argv[1:3])
    except subprocess.CalledProcessError as e:
        print(f"{e.cmd[:2]} failed: {e.stderr}", file=sys.stderr)
        sys.exit(1)
