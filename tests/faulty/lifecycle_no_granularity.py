#!/usr/bin/env python3
"""Carries every bitmap in its snapshots but without -g, so each carried bitmap gets
qemu's default granularity; its commits follow the algorithm. A coarser or finer
bitmap changes how much a backup copies, not which writes it misses."""

import lifecycle_tool

import recipe


def snapshot(active, overlay):
    recipe.snapshot(active, overlay, granularity=False)


lifecycle_tool.main(snapshot=snapshot)
