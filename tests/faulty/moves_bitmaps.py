#!/usr/bin/env python3
"""chain-contiguous: moves the bitmaps to OVERLAY, leaving a gap in ACTIVE."""
import recipe


def body(active, overlay):
    active_info = recipe.snapshot(active, overlay)
    for bitmap in recipe.bitmaps_of(active_info):
        if recipe.carried(bitmap):
            recipe.qemu_img("bitmap", "--remove", "--", active, bitmap["name"])


recipe.main(body)
