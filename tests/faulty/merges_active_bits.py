#!/usr/bin/env python3
"""overlay-fresh (dirty bits): copies ACTIVE's dirty bits into the new bitmaps."""

import recipe


def body(active, overlay):
    active_info = recipe.snapshot(active, overlay)
    for bitmap in recipe.bitmaps_of(active_info):
        if recipe.carried(bitmap):
            recipe.qemu_img(
                "bitmap",
                "--merge",
                bitmap["name"],
                "-b",
                active,
                "-F",
                active_info["format"],
                "--",
                overlay,
                bitmap["name"],
            )


recipe.main(body)
