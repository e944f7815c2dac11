#!/usr/bin/env python3
"""commit-no-foreign: carries every name of COMMIT_TOP, valid chain or not."""

import commit_recipe
from recipe import bitmaps_of


def body(top, base, above):
    commit_recipe.commit(
        top, base, above, select=lambda chain: [b["name"] for b in bitmaps_of(chain[0])]
    )


commit_recipe.main(body)
