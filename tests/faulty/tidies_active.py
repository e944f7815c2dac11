#!/usr/bin/env python3
"""active-untouched: 'tidies up' by removing ACTIVE's inconsistent bitmaps."""

import recipe


def body(active, overlay):
    active_info = recipe.snapshot(active, overlay)
    for bitmap in recipe.bitmaps_of(active_info):
        if "in-use" in bitmap["flags"]:
            recipe.qemu_img("bitmap", "--remove", "--", active, bitmap["name"])


recipe.main(body)
