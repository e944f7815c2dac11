#!/usr/bin/env python3
"""commit-relink: commits, but leaves ABOVE backed by COMMIT_TOP."""

import commit_recipe

commit_recipe.main(lambda top, base, above: commit_recipe.commit(top, base, above, rebase=False))
