#!/usr/bin/env python3
"""commit-merged: merges COMMIT_TOP's bitmap only, not those of the images between."""

import commit_recipe

commit_recipe.main(lambda top, base, above: commit_recipe.commit(top, base, above, walk_all=False))
