#!/usr/bin/env python3
"""locked-active: reads ACTIVE with qemu-img info -U, so a running VM does not stop it."""

import recipe


def body(active, overlay):
    bitmaps = recipe.bitmaps_of(recipe.info(active, "-U"))
    recipe.qemu_img(
        "create",
        "-q",
        "-f",
        "qcow2",
        "-b",
        active,
        "-F",
        "qcow2",
        "-u",
        overlay,
        str(recipe.info(active, "-U")["virtual-size"]),
    )
    for bitmap in bitmaps:
        if recipe.carried(bitmap):
            recipe.qemu_img(
                "bitmap", "--add", "-g", str(bitmap["granularity"]), "--", overlay, bitmap["name"]
            )


recipe.main(body)
