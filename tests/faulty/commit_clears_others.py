#!/usr/bin/env python3
"""commit-others-untouched: clears the bits of COMMIT_BASE's bitmaps it does not carry."""

import commit_recipe
from recipe import bitmaps_of, info, qemu_img


def body(top, base, above):
    names = commit_recipe.commit(top, base, above)
    for bitmap in bitmaps_of(info(base)):
        if bitmap["name"] not in names:
            qemu_img("bitmap", "--clear", "--", base, bitmap["name"])


commit_recipe.main(body)
