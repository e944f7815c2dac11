#!/usr/bin/env python3
"""The commit procedure as an outside tool would write it, with hooks to break it.

Every faulty commit implementation in this folder is a small program that
calls commit() with one mistake. They run as `exec:` programs, exactly as a
user's tool would: PATH COMMIT_TOP COMMIT_BASE [ABOVE], with QEMU_IMG set by
the harness.

    commit the data of COMMIT_TOP .. into COMMIT_BASE
    for each NAME whose bitmap chain is valid at COMMIT_TOP (the carried names):
        create NAME in COMMIT_BASE unless it is there, with NAME's granularity at COMMIT_TOP
        from COMMIT_TOP down to COMMIT_BASE, until an image lacks NAME:
            merge that image's NAME into COMMIT_BASE's NAME
    re-point ABOVE at COMMIT_BASE (an intermediate commit)
"""

import json
import os
import subprocess
import sys

from recipe import bitmaps_of, info, qemu_img


def chain_below(top):
    """qemu-img info of top and every image below it, top first."""
    return json.loads(qemu_img("info", "--output=json", "--backing-chain", top))


def flags(bitmap):
    return set(bitmap["flags"])


def valid_at_top(chain, name):
    """The chain rules from chain's top: one unbroken run of NAME from the top, all of it
    recording and consistent, and no NAME below the run."""
    held = [next((b for b in bitmaps_of(i) if b["name"] == name), None) for i in chain]
    run = held.index(None) if None in held else len(held)
    return (
        run > 0
        and not any(held[run:])
        and all("auto" in flags(b) and "in-use" not in flags(b) for b in held[:run])
    )


def carried_names(chain):
    names = dict.fromkeys(b["name"] for i in chain for b in bitmaps_of(i))
    return [n for n in names if valid_at_top(chain, n)]


def same_file(a, b):
    return os.path.realpath(a) == os.path.realpath(b)


def commit(
    top,
    base,
    above=None,
    *,
    select=None,
    granularity=True,
    add_options=(),
    walk_all=True,
    data=True,
    rebase=True,
):
    """Commit top .. into base, merge the carried names' bitmaps, re-point above."""
    chain = chain_below(top)
    subchain = []  # COMMIT_TOP and the images between, top first
    for image in chain:
        if same_file(image["filename"], base):
            break
        subchain.append(image)
    base_info = info(base)
    names = carried_names(chain) if select is None else select(chain)
    if data:
        qemu_img("commit", "-q", "-f", chain[0]["format"], "-b", base, top)
    held = {b["name"] for b in bitmaps_of(base_info)}
    for name in names:
        if name not in held:
            at_top = next(b for b in bitmaps_of(chain[0]) if b["name"] == name)
            options = ["-g", str(at_top["granularity"])] if granularity else []
            qemu_img("bitmap", "--add", *options, *add_options, "--", base, name)
        for image in subchain if walk_all else subchain[:1]:
            if not any(b["name"] == name for b in bitmaps_of(image)):
                break
            source = ["-b", image["filename"], "-F", image["format"]]
            qemu_img("bitmap", "--merge", name, *source, "--", base, name)
    if above and rebase:
        relative = os.path.relpath(base, os.path.dirname(os.path.abspath(above)))
        qemu_img("rebase", "-u", "-b", relative, "-F", base_info["format"], above)
    return names


def main(body):
    """Run body(top, base, above) as a program; print what failed, exit 1."""
    args = sys.argv[1:4]
    try:
        body(args[0], args[1], args[2] if len(args) > 2 else None)
    except subprocess.CalledProcessError as e:
        print(f"{e.cmd[:2]} failed: {e.stderr}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main(commit)
