#!/usr/bin/env python3
"""Conformant: binds a UNIX socket in tempfile.mkdtemp(), as a tool with a
control socket does, then takes the snapshot correctly.

It fails if TMPDIR is too long for a socket's path (108 bytes).
"""

import os
import shutil
import socket
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "faulty"))
import recipe  # noqa: E402


def body(active, overlay):
    folder = tempfile.mkdtemp()
    try:
        with socket.socket(socket.AF_UNIX) as control:
            control.bind(os.path.join(folder, "control.sock"))
        recipe.snapshot(active, overlay)
    finally:
        shutil.rmtree(folder)


recipe.main(body)
