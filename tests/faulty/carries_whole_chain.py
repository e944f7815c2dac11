#!/usr/bin/env python3
"""no-foreign-bitmaps: carries the recording bitmaps of every image in the chain."""

import json
import recipe


def body(active, overlay):
    chain = json.loads(recipe.qemu_img("info", "--output=json", "--backing-chain", active))
    every = {}
    for image in chain:
        for bitmap in recipe.bitmaps_of(image):
            every.setdefault(bitmap["name"], bitmap)
    recipe.snapshot(active, overlay, bitmaps=list(every.values()))


recipe.main(body)
