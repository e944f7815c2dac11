#!/usr/bin/env python3
"""commit-others-untouched: clears the bits of COMMIT_BASE's disabled bitmaps, carried or not.

Disabled ones only: clearing a recording bitmap of COMMIT_BASE would also lose
the writes of a checkpoint the commit makes valid (commit-backup-ready).
"""

import commit_recipe
from recipe import bitmaps_of, info, qemu_img


def body(top, base, above):
    commit_recipe.commit(top, base, above)
    for bitmap in bitmaps_of(info(base)):
        if "auto" not in bitmap["flags"]:
            qemu_img("bitmap", "--clear", "--", base, bitmap["name"])


commit_recipe.main(body)
