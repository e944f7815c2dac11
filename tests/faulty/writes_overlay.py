#!/usr/bin/env python3
"""overlay-fresh: 'tests' the new overlay by writing a cluster through it."""

import recipe


def body(active, overlay):
    recipe.snapshot(active, overlay)
    recipe.qemu_io("-c", "write -P 0x77 0 64k", overlay).check_returncode()


recipe.main(body)
