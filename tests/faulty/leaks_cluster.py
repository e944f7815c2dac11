#!/usr/bin/env python3
"""image-check: leaves a leaked cluster in OVERLAY (a refcount nothing uses)."""

import os
import struct
import recipe


def leak_one_cluster(path):
    with open(path, "r+b") as f:
        header = f.read(104)
        cluster_size = 1 << struct.unpack(">I", header[20:24])[0]
        refcount_table = struct.unpack(">Q", header[48:56])[0]
        refcount_order = struct.unpack(">I", header[96:100])[0]
        assert refcount_order == 4, "written for 16-bit refcounts"
        f.seek(refcount_table)
        block = struct.unpack(">Q", f.read(8))[0]
        spare = -(-os.path.getsize(path) // cluster_size)
        f.truncate((spare + 1) * cluster_size)
        f.seek(block + spare * 2)
        f.write(struct.pack(">H", 1))


def body(active, overlay):
    recipe.snapshot(active, overlay)
    leak_one_cluster(overlay)


recipe.main(body)
