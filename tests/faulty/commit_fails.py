#!/usr/bin/env python3
"""commit-completes: commits the data, then gives up before the bitmaps, saying why, and
exits 3: a failure that changed COMMIT_BASE, not a clean refusal."""

import sys

import commit_recipe

top, base = sys.argv[1:3]
commit_recipe.qemu_img("commit", "-q", "-b", base, top)
print("cannot commit: not implemented", file=sys.stderr)
sys.exit(3)
