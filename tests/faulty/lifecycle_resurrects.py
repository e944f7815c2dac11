#!/usr/bin/env python3
"""lifecycle-restore: a resurrecting commit. After the algorithm, it adds to COMMIT_BASE
every name an image below COMMIT_BASE holds and COMMIT_BASE lacks (as libvirt 9.0's
blockcommit merges names whose chain has a gap): the name's chain looks unbroken again,
but what the guest wrote while COMMIT_BASE was the top is in none of its bitmaps."""

import lifecycle_tool

import commit_recipe
from recipe import bitmaps_of, qemu_img


def commit(top, base, above):
    commit_recipe.commit(top, base, above)
    chain = commit_recipe.chain_below(base)
    held = {b["name"] for b in bitmaps_of(chain[0])}
    below = dict.fromkeys(b["name"] for image in chain[1:] for b in bitmaps_of(image))
    for name in below:
        if name not in held:
            qemu_img("bitmap", "--add", "--", base, name)


lifecycle_tool.main(commit=commit)
