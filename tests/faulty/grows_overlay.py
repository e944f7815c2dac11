#!/usr/bin/env python3
"""overlay-backing: gives OVERLAY a bigger virtual size than ACTIVE."""

import recipe


def body(active, overlay):
    size = recipe.info(active)["virtual-size"] + (1 << 30)
    recipe.snapshot(active, overlay, size=size)


recipe.main(body)
