#!/usr/bin/env python3
"""Refused, not failed: a snapshot tool that declines every chain with bitmaps, saying so,
and exits 1 without touching a file."""

import sys

import recipe

if recipe.bitmaps_of(recipe.info(sys.argv[1], "-U")):
    print("snapshot: ACTIVE has bitmaps; this tool does not carry them", file=sys.stderr)
    sys.exit(1)
recipe.main(recipe.snapshot)
