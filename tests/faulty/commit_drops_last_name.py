#!/usr/bin/env python3
"""commit-carry: carries every name but the last."""

import commit_recipe


def body(top, base, above):
    commit_recipe.commit(
        top, base, above, select=lambda chain: commit_recipe.carried_names(chain)[:-1]
    )


commit_recipe.main(body)
