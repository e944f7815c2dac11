#!/usr/bin/env python3
"""skip-inconsistent: looks only at the auto flag and ignores in-use."""

import recipe

recipe.main(
    lambda active, overlay: recipe.snapshot(active, overlay, select=lambda b: "auto" in b["flags"])
)
