#!/usr/bin/env python3
"""carry-recording, only on names over 255 bytes: a tool that keeps names in a 256-byte buffer.

The catalog has one 1023-byte name, in a hardening scenario; generated
scenarios find the fault on their own, and shrinking brings it down to one
image with one long name.
"""

import recipe


def cut(bitmap):
    return {**bitmap, "name": bitmap["name"].encode()[:255].decode("utf-8", "ignore")}


def body(active, overlay):
    found = recipe.bitmaps_of(recipe.info(active))
    recipe.snapshot(active, overlay, bitmaps=[cut(b) for b in found])


recipe.main(body)
