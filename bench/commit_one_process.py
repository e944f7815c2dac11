"""Could one qemu process do the data commit and the bitmap work, fast enough?

    .venv/bin/python bench/commit_one_process.py [--repeat R] [--data-mib D ...] [N]

A prototype, not the reference: on bench/commit.py's chain (BASE <- TOP, N
bitmaps in TOP), one qemu-storage-daemon, driven over a QMP socket, opens
both images, commits TOP into BASE with a block-commit job (an active
commit: job-complete once it is ready), then adds and merges the carried
bitmaps in one transaction, and closes. It skips what the reference does
around that (reading the chain, refusing, checking the result). Times it
against `qemu-img commit` alone, taking turns on fresh copies. Asserts
nothing.
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import commit as bench  # noqa: E402  (bench/commit.py: the chain and the timing)

from qcow2_conformance.tools import toolset  # noqa: E402


class Qmp:
    """A QMP client on a UNIX socket: commands in order, events kept aside."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        for _ in range(500):
            try:
                self.sock.connect(path)
                break
            except OSError:
                time.sleep(0.002)
        self.file = self.sock.makefile("rwb")
        self.events = []
        self._read()  # the greeting
        self.run("qmp_capabilities")

    def _read(self):
        return json.loads(self.file.readline())

    def run(self, name, **arguments):
        self.file.write(json.dumps({"execute": name, "arguments": arguments}).encode() + b"\n")
        self.file.flush()
        while True:
            reply = self._read()
            if "event" in reply:
                self.events.append(reply)
            elif "error" in reply:
                raise RuntimeError(f"{name}: {reply['error']['desc']}")
            else:
                return reply["return"]

    def wait(self, event, **data):
        while True:
            found = [e for e in self.events if e["event"] == event]
            if any(all(e["data"].get(k) == v for k, v in data.items()) for e in found):
                self.events = [e for e in self.events if e not in found]
                return
            self.events.append(self._read())


def one_process(qsd, folder):
    base, top = os.path.join(folder, "base.qcow2"), os.path.join(folder, "top.qcow2")
    path = os.path.join(tempfile.mkdtemp(prefix="qmp-", dir="/tmp"), "qmp.sock")
    daemon = subprocess.Popen(
        [qsd, "--chardev", f"socket,id=m,path={path},server=on,wait=off", "--monitor", "m"],
        stdout=subprocess.DEVNULL,
    )
    try:
        qmp = Qmp(path)
        qmp.run("blockdev-add", driver="qcow2", **{"node-name": "base"}, file=_file(base))
        qmp.run(
            "blockdev-add", driver="qcow2", **{"node-name": "top"}, file=_file(top), backing="base"
        )
        # TOP is the root of its graph: this is an active commit.
        qmp.run("block-commit", **{"job-id": "c", "device": "top", "base-node": "base"})
        qmp.wait("BLOCK_JOB_READY", device="c")
        qmp.run("job-complete", id="c")
        qmp.wait("BLOCK_JOB_COMPLETED", device="c")
        names = {b["name"]: b for b in _bitmaps(qmp, "top")}
        in_base = {b["name"] for b in _bitmaps(qmp, "base")}
        carried = [
            b for b in names.values() if b["recording"] and b.get("inconsistent") is not True
        ]
        actions = [
            {
                "type": "block-dirty-bitmap-add",
                "data": {"node": "base", "name": b["name"], "persistent": True},
            }
            for b in carried
            if b["name"] not in in_base
        ]
        actions += [
            {
                "type": "block-dirty-bitmap-merge",
                "data": {
                    "node": "base",
                    "target": b["name"],
                    "bitmaps": [{"node": "top", "name": b["name"]}],
                },
            }
            for b in carried
        ]
        qmp.run("transaction", actions=actions)
        qmp.run("blockdev-del", **{"node-name": "top"})
        qmp.run("blockdev-del", **{"node-name": "base"})
        qmp.run("quit")
        daemon.wait(timeout=60)
        return len(carried)
    finally:
        if daemon.poll() is None:
            daemon.kill()
        shutil.rmtree(os.path.dirname(path), ignore_errors=True)


def _file(path):
    return {"driver": "file", "filename": path}


def _bitmaps(qmp, node):
    for found in qmp.run("query-named-block-nodes", flat=True):
        if found["node-name"] == node:
            return found.get("dirty-bitmaps", [])
    return []


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("count", nargs="?", type=int, default=1000)
    parser.add_argument("--data-mib", type=int, nargs="+", default=[64, 512])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    tools = toolset.find(toolset.get_host())
    print(f"qemu: {tools.release}; load average {os.getloadavg()[0]:.2f} at start")
    folder = tempfile.mkdtemp(prefix="bench-commit1-")
    try:
        for data_mib in args.data_mib:
            pristine = os.path.join(folder, f"chain-{data_mib}")
            os.mkdir(pristine)
            _, _, carried = bench.build(tools, pristine, args.count, data_mib)
            scratch = os.path.join(folder, "scratch")
            times = {"qemu-img": [], "one process": []}
            _, qemu_img_commit, env = bench.ways(tools)[0]
            for turn in range(args.repeat + 1):  # the first turn is not counted
                spent = bench.run_once(qemu_img_commit, env, pristine, scratch, carried)
                if turn:
                    times["qemu-img"].append(spent)
                shutil.rmtree(scratch)
                shutil.copytree(pristine, scratch)
                start = time.perf_counter()
                got = one_process(tools.qemu_storage_daemon, scratch)
                spent = time.perf_counter() - start
                if got != carried:
                    sys.exit(f"one process carried {got} bitmaps, not {carried}")
                if turn:
                    times["one process"].append(spent)
            data = statistics.median(times["qemu-img"])
            for label, found in times.items():
                median = statistics.median(found)
                print(
                    f"{args.count} bitmaps, {data_mib} MiB: {label:<12} median {median:.3f} s,"
                    f" {median / data:.2f}x qemu-img commit ({len(found)} runs)"
                )
            shutil.rmtree(pristine)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
