#!/usr/bin/env python3
"""The harness under fault: kills the pytest-xdist worker that runs it (SIGKILL)."""

import os
import signal

pid = os.getppid()
while pid > 1:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        cmdline = f.read()
    if b"python" in cmdline and b"sys.stdin.readline" in cmdline:
        os.kill(pid, signal.SIGKILL)
        break
    pid = int(fields[1])
