#!/usr/bin/env python3
"""commit-granularity: creates bitmaps in COMMIT_BASE without -g, at qemu's default."""

import commit_recipe

commit_recipe.main(
    lambda top, base, above: commit_recipe.commit(top, base, above, granularity=False)
)
