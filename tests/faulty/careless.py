#!/usr/bin/env python3
"""completes, same-granularity, skip-inconsistent, and the hardening checks no-clobber,
clean-failure, hostile-names: the careless tool of docs/reports.md, written as a
hurried user would: qemu-img create -F qcow2 -b ACTIVE OVERLAY, then qemu-img bitmap
--add OVERLAY NAME for each recording bitmap, without -g, without '--', without a check."""

import json
import os
import subprocess
import sys

active, overlay = sys.argv[1:3]
qemu_img = os.environ.get("QEMU_IMG", "qemu-img")
info = json.loads(
    subprocess.run(
        [qemu_img, "info", "--output=json", active], check=True, capture_output=True, text=True
    ).stdout
)
subprocess.run(
    [qemu_img, "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", active, overlay], check=True
)
for bitmap in info.get("format-specific", {}).get("data", {}).get("bitmaps", []):
    if "auto" in bitmap["flags"]:
        subprocess.run([qemu_img, "bitmap", "--add", overlay, bitmap["name"]], check=True)
