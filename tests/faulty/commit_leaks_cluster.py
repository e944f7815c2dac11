#!/usr/bin/env python3
"""commit-image-check: leaves a leaked cluster in COMMIT_BASE."""

import commit_recipe
import damage


def body(top, base, above):
    commit_recipe.commit(top, base, above)
    damage.leak_one_cluster(base)


commit_recipe.main(body)
