#!/usr/bin/env python3
"""commit-relink: a correct commit, then ABOVE is deleted, as a tool that mistook the
images above COMMIT_TOP for the subchain would; what needs ABOVE is not evaluated."""

import os

import commit_recipe


def body(top, base, above):
    commit_recipe.commit(top, base, above)
    os.remove(above)


commit_recipe.main(body)
