#!/usr/bin/env python3
"""overlay-only: a correct snapshot, but it leaves a log beside ACTIVE and a file in HOME."""

import os

import recipe


def body(active, overlay):
    recipe.snapshot(active, overlay)
    with open(os.path.join(os.path.dirname(active), "snapshot.log"), "w") as log:
        log.write(f"snapshot of {active} taken\n")
    with open(os.path.join(os.path.expanduser("~"), ".snapshot-history"), "w") as history:
        history.write(f"{overlay}\n")


recipe.main(body)
