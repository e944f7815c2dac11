#!/usr/bin/env python3
"""same-granularity: the old shell recipe, qemu-img bitmap --add without -g."""

import recipe

recipe.main(lambda active, overlay: recipe.snapshot(active, overlay, granularity=False))
