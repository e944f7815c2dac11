#!/usr/bin/env python3
"""image-check: leaves a leaked cluster in OVERLAY (a refcount nothing uses)."""

import damage
import recipe


def body(active, overlay):
    recipe.snapshot(active, overlay)
    damage.leak_one_cluster(overlay)


recipe.main(body)
