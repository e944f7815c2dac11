#!/usr/bin/env python3
"""active-untouched (and overlay-only): a correct snapshot, then it 'cleans up' by deleting
ACTIVE, as a tool that mistook the snapshot for a copy would."""

import os

import recipe


def body(active, overlay):
    recipe.snapshot(active, overlay)
    os.remove(active)


recipe.main(body)
