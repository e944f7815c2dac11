#!/usr/bin/env python3
"""active-untouched: a correct snapshot, then ACTIVE is cut to its first 64 KiB, as a
tool that 'compacts' the old top would leave it."""

import os

import recipe


def body(active, overlay):
    recipe.snapshot(active, overlay)
    os.truncate(active, min(65536, os.path.getsize(active) // 2))


recipe.main(body)
