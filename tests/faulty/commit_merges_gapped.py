#!/usr/bin/env python3
"""commit-no-foreign and commit-backup-ready: carries every recording name of COMMIT_TOP,
its chain gapped or not, as libvirt 9.0's blockcommit does.

A name COMMIT_BASE lacked while an image below held it is created there, so
its chain looks valid afterwards, but COMMIT_BASE's own earlier writes are in
no bitmap of it.
"""

import commit_recipe
from recipe import bitmaps_of, carried


def body(top, base, above):
    commit_recipe.commit(
        top,
        base,
        above,
        select=lambda chain: [b["name"] for b in bitmaps_of(chain[0]) if carried(b)],
    )


commit_recipe.main(body)
