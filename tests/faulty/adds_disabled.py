#!/usr/bin/env python3
"""overlay-recording: creates the overlay's bitmaps disabled."""

import recipe

recipe.main(lambda active, overlay: recipe.snapshot(active, overlay, add_options=["--disable"]))
