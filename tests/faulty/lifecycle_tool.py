"""One exec: program for both procedures, as lifecycles call it (--lifecycle-commits).

A snapshot is PATH ACTIVE OVERLAY, a commit PATH COMMIT_TOP COMMIT_BASE [ABOVE]:
COMMIT_BASE exists, a snapshot's OVERLAY does not. Each faulty lifecycle tool
here breaks one of the two and does the other by the book.
"""

import os
import subprocess
import sys

import commit_recipe
import recipe


def main(snapshot=recipe.snapshot, commit=commit_recipe.commit):
    args = sys.argv[1:4]
    try:
        if len(args) == 2 and not os.path.exists(args[1]):
            snapshot(*args)
        else:
            commit(args[0], args[1], args[2] if len(args) > 2 else None)
    except subprocess.CalledProcessError as e:
        print(f"{e.cmd[:2]} failed: {e.stderr}", file=sys.stderr)
        sys.exit(1)
