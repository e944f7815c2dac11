#!/usr/bin/env python3
"""commit-completes: gives up at once, saying why, and exits 3."""

import sys

print("cannot commit: not implemented", file=sys.stderr)
sys.exit(3)
