#!/usr/bin/env python3
"""hostile-names: pastes bitmap names into shell command lines, in double quotes."""

import os
import subprocess
import recipe


def body(active, overlay):
    active_info = recipe.info(active)
    recipe.qemu_img("create", "-q", "-f", "qcow2", "-b", active, "-F", "qcow2", overlay)
    qemu_img = os.environ.get("QEMU_IMG", "qemu-img")
    for bitmap in recipe.bitmaps_of(active_info):
        if recipe.carried(bitmap):
            subprocess.run(
                f'{qemu_img} bitmap --add -g {bitmap["granularity"]} {overlay} "{bitmap["name"]}"',
                shell=True,
                check=False,
            )


recipe.main(body)
