#!/usr/bin/env python3
"""commit-data: merges the bitmaps and re-points ABOVE, but never commits the data."""

import commit_recipe

commit_recipe.main(lambda top, base, above: commit_recipe.commit(top, base, above, data=False))
