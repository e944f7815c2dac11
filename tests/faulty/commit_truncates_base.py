#!/usr/bin/env python3
"""commit-completes: a correct commit, then COMMIT_BASE is cut to its first 64 KiB."""

import os

import commit_recipe


def body(top, base, above):
    commit_recipe.commit(top, base, above)
    os.truncate(base, min(65536, os.path.getsize(base) // 2))


commit_recipe.main(body)
