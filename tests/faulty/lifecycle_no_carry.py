#!/usr/bin/env python3
"""lifecycle-backup-possible: its snapshots carry no bitmap (as a powered-off disk
snapshot driver that only runs qemu-img create); its commits follow the algorithm."""

import lifecycle_tool

import recipe


def snapshot(active, overlay):
    recipe.snapshot(active, overlay, select=lambda bitmap: False)


lifecycle_tool.main(snapshot=snapshot)
