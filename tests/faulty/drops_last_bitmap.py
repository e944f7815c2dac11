#!/usr/bin/env python3
"""carry-recording: forgets the last bitmap of ACTIVE's list."""

import recipe


def body(active, overlay):
    recipe.snapshot(active, overlay, bitmaps=recipe.bitmaps_of(recipe.info(active))[:-1])


recipe.main(body)
