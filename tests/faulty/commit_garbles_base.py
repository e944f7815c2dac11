#!/usr/bin/env python3
"""commit-completes: a correct commit, then COMMIT_BASE's first 512 bytes are zeroed in
place: the file is no qcow2 image any more, and qemu cannot open the chain above it."""

import commit_recipe


def body(top, base, above):
    commit_recipe.commit(top, base, above)
    with open(base, "r+b") as f:
        f.write(bytes(512))


commit_recipe.main(body)
