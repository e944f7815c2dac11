#!/usr/bin/env python3
"""commit-backup-ready: commits well, then disables ABOVE's bitmaps."""

import commit_recipe
from recipe import bitmaps_of, info, qemu_img


def body(top, base, above):
    commit_recipe.commit(top, base, above)
    for bitmap in bitmaps_of(info(above)):
        qemu_img("bitmap", "--disable", "--", above, bitmap["name"])


commit_recipe.main(body)
