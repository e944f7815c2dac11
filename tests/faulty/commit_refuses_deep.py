#!/usr/bin/env python3
"""Refused, not failed: merges a volume only into its direct parent, as oVirt's cold merge
does. When COMMIT_BASE is not COMMIT_TOP's backing image it exits 1 saying so, touching
nothing; otherwise it runs the correct recipe (commit_recipe.py)."""

import sys

import commit_recipe


def body(top, base, above):
    chain = commit_recipe.chain_below(top)
    if len(chain) < 2 or not commit_recipe.same_file(chain[1]["filename"], base):
        print(
            f"WrongParentVolume: {base} is not the parent of {top}; only a direct parent"
            " can be merged into",
            file=sys.stderr,
        )
        sys.exit(1)
    commit_recipe.commit(top, base, above)


commit_recipe.main(body)
