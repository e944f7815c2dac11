#!/usr/bin/env python3
"""completes: prints binary garbage, exits 0, creates nothing."""

import os
import sys

sys.stdout.buffer.write(os.urandom(4096) + b"\x00\xff\xfe")
sys.stderr.buffer.write(b"\xc3\x28 not utf-8 \x80\n")
