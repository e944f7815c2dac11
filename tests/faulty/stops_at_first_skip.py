#!/usr/bin/env python3
"""carry-recording: 'break' instead of 'continue' at the first skipped bitmap."""

import recipe

recipe.main(lambda active, overlay: recipe.snapshot(active, overlay, stop_at_skip=True))
