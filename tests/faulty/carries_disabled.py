#!/usr/bin/env python3
"""skip-disabled: carries every consistent bitmap, recording or not."""

import recipe

recipe.main(
    lambda active, overlay: recipe.snapshot(
        active, overlay, select=lambda b: "in-use" not in b["flags"]
    )
)
