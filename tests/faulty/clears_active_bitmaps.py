#!/usr/bin/env python3
"""active-untouched (dirty bits): 'starts fresh' by clearing ACTIVE's carried bitmaps."""

import recipe


def body(active, overlay):
    recipe.on_carried_in_active(active, recipe.snapshot(active, overlay), "--clear")


recipe.main(body)
