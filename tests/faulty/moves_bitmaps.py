#!/usr/bin/env python3
"""chain-contiguous: moves the bitmaps to OVERLAY, leaving a gap in ACTIVE."""

import recipe


def body(active, overlay):
    recipe.on_carried_in_active(active, recipe.snapshot(active, overlay), "--remove")


recipe.main(body)
