#!/usr/bin/env python3
"""qemu-img-agrees: a qemu-img that misreports every image's virtual size.

Passes every call through to the real qemu-img (REAL_QEMU_IMG below is filled
in by the test that installs it), but adds 512 to "virtual-size" in
`info --output=json`: a regression of the qemu release under test, which only
the cross-check against the harness's own reader can see.
"""

import json
import subprocess
import sys

REAL_QEMU_IMG = "@REAL@"

out = subprocess.run([REAL_QEMU_IMG, *sys.argv[1:]], capture_output=True, text=True)
stdout = out.stdout
if sys.argv[1:2] == ["info"] and "--output=json" in sys.argv and out.returncode == 0:
    info = json.loads(stdout)
    for image in info if isinstance(info, list) else [info]:
        image["virtual-size"] += 512
    stdout = json.dumps(info)
sys.stdout.write(stdout)
sys.stderr.write(out.stderr)
sys.exit(out.returncode)
