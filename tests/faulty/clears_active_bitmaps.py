#!/usr/bin/env python3
"""active-untouched (dirty bits): 'starts fresh' by clearing ACTIVE's carried bitmaps."""
import recipe


def body(active, overlay):
    active_info = recipe.snapshot(active, overlay)
    for bitmap in recipe.bitmaps_of(active_info):
        if recipe.carried(bitmap):
            recipe.qemu_img("bitmap", "--clear", "--", active, bitmap["name"])


recipe.main(body)
