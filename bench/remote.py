"""What judging over ssh costs against judging locally, per scenario.

    .venv/bin/python bench/remote.py [--repeat N] [--workers W] [--impl NAME]

Starts a real sshd on 127.0.0.1 (tests/sshd.py: its target folder is a
tmpfs only ssh sessions see), then runs the conformance suite on the whole
catalog as bin/conformance does, locally and with --target-host on that
sshd, N times each (default 3) with W xdist workers (default 0: one
process, so the figure is the cost of a scenario, not of a split). Prints
the median wall times, per scenario, and their ratio. Asserts nothing.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, ROOT)

from suite_env import suite_env  # noqa: E402

from qcow2_conformance.scenarios import load_catalog  # noqa: E402
from qcow2_conformance.scenarios.model import SNAPSHOT  # noqa: E402

import sshd  # noqa: E402

ENV = suite_env()


def suite(workers, impl, results, *more):
    """Wall seconds of one run of the suite."""
    start = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "qcow2_conformance", "-q", "-n", str(workers), "--impl", impl]
        + ["--results", results, *more],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
    )
    wall = time.monotonic() - start
    if out.returncode not in (0, 1):
        sys.exit(f"bench: the suite failed (exit {out.returncode}):\n{out.stdout[-3000:]}")
    return wall


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--impl", default="reference")
    args = parser.parse_args()
    reason = sshd.missing()
    if reason:
        sys.exit(f"bench: {reason}")
    scenarios = [s for s in load_catalog() if s.procedure == SNAPSHOT]
    with tempfile.TemporaryDirectory(prefix="bench-remote-") as folder:
        server = sshd.start(os.path.join(folder, "sshd"), os.path.join(folder, "target"))
        remote = ["--target-host", server.url, "--ssh-config", server.ssh_config]
        remote += ["--target-dir", server.private_dir]
        results = os.path.join(folder, "results.json")
        try:
            local, over_ssh = [], []
            for _ in range(args.repeat):
                local.append(suite(args.workers, args.impl, results))
                over_ssh.append(suite(args.workers, args.impl, results, *remote))
        finally:
            server.stop()
    n = len(scenarios)
    lo, re_ = statistics.median(local), statistics.median(over_ssh)
    print(f"catalog: {n} snapshot scenarios, --impl {args.impl}, -n {args.workers}")
    print(f"runs: {args.repeat} each; medians below")
    print(f"local:           {lo:6.2f} s  ({lo / n * 1000:5.0f} ms a scenario)")
    print(f"ssh (loopback):  {re_:6.2f} s  ({re_ / n * 1000:5.0f} ms a scenario)")
    print(f"ratio ssh/local: {re_ / lo:.2f}x  (goal: under 1.5x)")
    print(f"all local:  {' '.join(f'{t:.2f}' for t in local)}")
    print(f"all ssh:    {' '.join(f'{t:.2f}' for t in over_ssh)}")


if __name__ == "__main__":
    main()
