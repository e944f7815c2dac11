#!/usr/bin/env python3
"""overlay-consistent: a later step opens OVERLAY writable and is killed."""

import recipe


def body(active, overlay):
    recipe.snapshot(active, overlay)
    recipe.qemu_io("-c", "sigraise 9", overlay)


recipe.main(body)
