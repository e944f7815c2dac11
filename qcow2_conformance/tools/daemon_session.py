"""One qemu-storage-daemon on this machine, kept running for a series of QMP commands.

tools/storage_daemon.py starts a daemon per batch of commands, written in
advance. A session instead sends each command once the last one is
answered, so a chain can be built in one daemon: nodes opened once, bitmap
steps and writes (over its NBD server, tools/nbd_write.py) in between, in
the order the steps need. Only on this machine: it holds the daemon's pipes.
"""

import collections
import contextlib
import json
import os
import selectors
import shutil
import signal
import subprocess
import time

from qcow2_conformance.tools import command, files

# What one QMP answer may take: a blockdev-del stores every bitmap of an image.
ANSWER_TIMEOUT = 120
QUIT_TIMEOUT = 30


def _line_of(message):
    """message as one line of QMP input. Text goes as UTF-8, not as \\uXXXX escapes:
    qemu reads its monitor a byte at a time, at about 4 us of its CPU a byte
    (docs/benchmarks.md), and a generated bitmap name can take up to 1,023
    bytes. A lone surrogate, which UTF-8 cannot carry, keeps its escape."""
    text = json.dumps(message, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode("utf-8") + b"\n"
    except UnicodeEncodeError:
        return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def usable(tools):
    """Whether sessions run here: qemu-storage-daemon on this machine."""
    return bool(tools.qemu_storage_daemon) and files.here(tools.host)


class Session:
    """A qemu-storage-daemon whose monitor is this object's: start, execute, close or kill.

    blockdevs: nodes (QMP blockdev-add arguments) the daemon opens before
    its monitor starts. The daemon dies with the thread that started it
    (setpriv --pdeathsig, where util-linux has it): a session kept for a
    whole process must not outlive a process that is killed. As a context
    manager it quits when the block ends, and is killed if the block raised.
    """

    def __init__(self, tools, *, blockdevs=(), timeout=ANSWER_TIMEOUT):
        self.argv = [tools.qemu_storage_daemon]
        for node in blockdevs:
            self.argv += ["--blockdev", json.dumps(node, separators=(",", ":"))]
        self.argv += ["--chardev", "stdio,id=qmp", "--monitor", "chardev=qmp"]
        self.timeout = timeout
        # The daemon's last words other than QMP's, for an error's message: a
        # session kept for a whole run answers tens of thousands of commands.
        self.said = collections.deque(maxlen=5)
        self.events = []  # the QMP events it sent, not yet waited for
        self._buffer = b""
        self._ended = False
        self._start = time.monotonic()
        # setpriv execs the daemon: the same process, its parent this one.
        setpriv = shutil.which("setpriv")
        self.proc = subprocess.Popen(
            [setpriv, "--pdeathsig", "KILL", *self.argv] if setpriv else self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ, command.MARK: command.new_mark()},
            process_group=0,
        )
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.proc.stdout, selectors.EVENT_READ)
        try:
            self._answer(greeting=True)
            self.execute("qmp_capabilities")
        except BaseException:
            self.kill()
            raise

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        if kind is None:
            self.close()
        else:
            self.kill()

    def execute(self, name, arguments=None):
        """Run one QMP command; its return value. Raises command.CommandError with
        qemu's description if qemu refused it or the daemon ended."""
        message = {"execute": name}
        if arguments is not None:
            message["arguments"] = arguments
        try:
            self.proc.stdin.write(_line_of(message))
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):  # ValueError: stdin closed, the daemon ended
            self._fail(f"qemu-storage-daemon ended before {name}")
        return self._answer(what=name)

    @property
    def alive(self):
        if self.proc.poll() is None:
            return True
        self._logged(self.proc.returncode)
        return False

    def wait_for(self, event, **data):
        """Wait until the daemon sends event with data among its details; return its details."""
        deadline = time.monotonic() + self.timeout
        while True:
            for i, seen in enumerate(self.events):
                details = seen.get("data", {})
                if seen["event"] == event and all(details.get(k) == v for k, v in data.items()):
                    del self.events[i]
                    return details
            self._reply(self._line(deadline, event))

    def forget(self, event, **data):
        """Drop the events of a kind (and data) kept so far: ones nobody will wait for."""
        self.events = [
            e
            for e in self.events
            if e["event"] != event or any(e.get("data", {}).get(k) != v for k, v in data.items())
        ]

    def transaction(self, actions):
        """Run actions in one QMP transaction; one action alone as its own command,
        which does the same in fewer bytes of the monitor's input."""
        if len(actions) == 1:
            self.execute(actions[0]["type"], actions[0]["data"])
        elif actions:
            self.execute("transaction", {"actions": actions})

    def close(self):
        """Quit and wait until the daemon is gone, and its image locks with it."""
        if self.proc.returncode is not None:
            return  # killed already
        with contextlib.suppress(command.CommandError):
            self.execute("quit")
        try:
            rc = self.proc.wait(timeout=QUIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            self._fail(f"qemu-storage-daemon did not quit within {QUIT_TIMEOUT} s; killed")
        self._logged(rc)
        if rc != 0:
            self._fail(f"qemu-storage-daemon exited with status {rc}")

    def kill(self):
        """SIGKILL and wait: what a crash leaves on disk stays there."""
        if self.proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._logged(self.proc.wait())

    def _logged(self, rc):
        """The command log's line for the daemon, once: one command, however many QMP commands."""
        if self._ended:
            return
        self._ended = True
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        self._selector.close()
        command.log.info(
            "%s -> exit %d in %.3f s",
            command.shown(self.argv),
            rc if rc >= 0 else 128 - rc,
            time.monotonic() - self._start,
        )

    def _answer(self, greeting=False, what="the greeting"):
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._reply(self._line(deadline, what))
            if greeting and "QMP" in reply:
                return None
            if "return" in reply:
                return reply["return"]
            if "error" in reply:
                self._fail(f"qemu refused {what}: {reply['error'].get('desc', reply['error'])}")

    def _reply(self, line):
        """The JSON object of a line of the monitor ({} for other output); events are kept."""
        if not line.startswith("{"):
            return {}
        reply = json.loads(line)
        if "event" in reply:
            self.events.append(reply)
        return reply

    def _line(self, deadline, what):
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not self._selector.select(left):
                self.kill()
                self._fail(f"no answer to {what} within {self.timeout} s; the daemon was killed")
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                # Its last words are why: a daemon that cannot start says so and exits.
                last = command.summary("\n".join(self.said))
                self._fail(
                    f"qemu-storage-daemon ended before answering {what}: {last or 'no output'}"
                )
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        text = line.decode("utf-8", "replace")
        if not text.startswith("{"):
            self.said.append(text)
        return text

    def _fail(self, why):
        said = "\n".join(self.said)
        raise command.CommandError(self.argv, command.Result(1, said, why))
