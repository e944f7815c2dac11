#!/usr/bin/env python3
"""completes: dies of a signal half-way through."""

import os
import signal
import sys
import recipe

recipe.qemu_img("create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", *sys.argv[1:3])
os.kill(os.getpid(), signal.SIGSEGV)
