#!/usr/bin/env python3
"""commit-recording: creates the bitmaps COMMIT_BASE lacks disabled."""

import commit_recipe

commit_recipe.main(
    lambda top, base, above: commit_recipe.commit(top, base, above, add_options=("--disable",))
)
