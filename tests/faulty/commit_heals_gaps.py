#!/usr/bin/env python3
"""commit-backup-ready: commits well, then "heals" a gap by adding COMMIT_BASE's names to ABOVE.

The checkpoint becomes valid by the chain rules, but nothing recorded the
writes ABOVE took while it lacked the name: a backup from it would miss them.
"""

import commit_recipe
from recipe import bitmaps_of, carried, info, qemu_img


def body(top, base, above):
    commit_recipe.commit(top, base, above)
    if above is None:
        return
    held = {b["name"] for b in bitmaps_of(info(above))}
    for bitmap in bitmaps_of(info(base)):
        if carried(bitmap) and bitmap["name"] not in held:
            granularity = str(bitmap["granularity"])
            qemu_img("bitmap", "--add", "-g", granularity, "--", above, bitmap["name"])


commit_recipe.main(body)
