#!/usr/bin/env python3
"""no-leftovers: a correct snapshot, then a process left running in a session of its own.

setsid takes it out of the program's process group and session, as a daemon
would leave; it still holds the harness's mark in its environment.
"""

import subprocess

import recipe


def body(active, overlay):
    recipe.snapshot(active, overlay)
    subprocess.Popen(
        ["setsid", "sleep", "600"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


recipe.main(body)
