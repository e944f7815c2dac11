"""Run one command line on a host of tools/hosts.py (this machine, or an ssh target).

The single place that turns an argument list into a shell command, so every
tool wrapper quotes the same way and every failure reads the same way.
"""

import contextlib
import logging
import os
import secrets
import shlex
import signal
import subprocess
import time
from dataclasses import dataclass

# Every command, its exit status and duration: pytest shows these for a failing test.
log = logging.getLogger("harness.commands")

# Exit status of coreutils timeout(1) when the time limit hit, and when it
# also had to send SIGKILL.
TIMEOUT_STATUS, KILLED_STATUS = 124, 128 + 9
# Grace period between SIGTERM and SIGKILL for a timed out command.
KILL_AFTER = 5
# No command may hang the harness: this bounds those that set no timeout.
DEFAULT_TIMEOUT = 600
# The environment variable that marks a command's processes (tools/processes.py).
MARK = "HARNESS_COMMAND"
# run()'s default: a fresh mark for the command.
FRESH = object()


class CommandError(Exception):
    """A command exited with a status the caller did not accept."""

    def __init__(self, argv, result):
        self.argv = list(argv)
        self.result = result
        detail = summary(result.stderr) or summary(result.stdout) or "no output"
        super().__init__(
            f"{shlex.quote(self.argv[0])} {self.argv[1] if len(self.argv) > 1 else ''}"
            f" failed with exit status {result.rc}: {detail}"
        )


@dataclass(frozen=True)
class Result:
    rc: int
    stdout: str
    stderr: str
    timed_out: bool = False


def summary(text, lines=3, width=400):
    """The last few non-empty lines of text, on one line."""
    kept = [line.strip() for line in text.strip().splitlines() if line.strip()][-lines:]
    return " | ".join(kept)[:width]


def command_line(
    argv,
    *,
    env=None,
    unset=(),
    timeout=None,
    stdin=None,
    cwd=None,
    max_file_size=None,
    cpus=None,
):
    """Return argv as one shell command, with optional environment and limits.

    env adds or replaces variables, unset removes variables of the host's
    environment (env -u), before anything else runs.

    The timeout uses coreutils timeout(1): it runs the command in a process
    group of its own and signals the whole group, so a hung command cannot
    leave children behind. max_file_size (bytes) is RLIMIT_FSIZE, set with
    util-linux prlimit(1): a write past it fails, or kills with SIGXFSZ.
    cpus (a set of CPU numbers) is the command's CPU affinity, set with
    util-linux taskset(1).
    """
    words = [shlex.quote(str(a)) for a in argv]
    if cpus is not None:
        # taskset takes no "--"; it stops reading options at the command.
        words = ["taskset", "-c", ",".join(str(c) for c in sorted(cpus))] + words
    if max_file_size is not None:
        words = ["prlimit", f"--fsize={int(max_file_size)}", "--"] + words
    if timeout is not None:
        words = ["timeout", "-k", str(KILL_AFTER), str(timeout)] + words
    if env or unset:
        words = (
            ["env"]
            + [f"-u {shlex.quote(name)}" for name in unset]
            + [shlex.quote(f"{k}={v}") for k, v in (env or {}).items()]
            + words
        )
    line = " ".join(words)
    if stdin is not None:
        line += " < " + shlex.quote(str(stdin))
    if cwd is not None:
        line = f"cd {shlex.quote(str(cwd))} && {line}"
    return line


def run(
    host,
    argv,
    *,
    check=True,
    env=None,
    unset=(),
    timeout=DEFAULT_TIMEOUT,
    stdin=None,
    cwd=None,
    max_file_size=None,
    cpus=None,
    mark=FRESH,
):
    """Run argv on host and return a Result; raise CommandError if check and rc != 0.

    The command's processes carry mark in their environment (tools/processes.py;
    FRESH: a new one, None: none). If the command does not return, because
    the harness is interrupted (Ctrl-C) or its host failed, every process
    carrying the mark is killed before the exception goes on: timeout(1)
    makes a process group of its own, which a terminal's SIGINT never reaches.
    """
    timeout = DEFAULT_TIMEOUT if timeout is None else timeout
    if mark is FRESH:
        mark = new_mark()
    if mark is not None:
        env = {MARK: mark, **(env or {})}
    start = time.monotonic()
    line = command_line(
        argv,
        env=env,
        unset=unset,
        timeout=timeout,
        stdin=stdin,
        cwd=cwd,
        max_file_size=max_file_size,
        cpus=cpus,
    )
    try:
        out = _direct(host, argv, env, unset, timeout, stdin, cwd, max_file_size, cpus)
        if out is None:
            out = host.run(line)
    except BaseException:
        # On an ssh target the agent kills what is in its sessions when the
        # connection goes; a request sent now would cross the unfinished one.
        if mark is not None and host.backend.NAME == "local":
            _kill_left(host, mark)
        raise
    rc, stdout, stderr = out.rc, out.stdout_bytes, out.stderr_bytes
    result = Result(
        rc=rc,
        # A program under test may print anything; keep it readable.
        stdout=stdout.decode("utf-8", "replace"),
        stderr=stderr.decode("utf-8", "replace"),
        # 137 is also what any SIGKILL gives (the OOM killer's, a program's
        # own): only the clock tells that timeout(1) sent it.
        timed_out=rc == TIMEOUT_STATUS
        or (rc == KILLED_STATUS and time.monotonic() - start >= timeout),
    )
    log.info(
        "%s -> exit %d%s in %.3f s",
        shown(argv),
        result.rc,
        " (timed out)" if result.timed_out else "",
        time.monotonic() - start,
    )
    if check and result.rc != 0:
        raise CommandError(argv, result)
    return result


@dataclass(frozen=True)
class _Output:
    rc: int
    stdout_bytes: bytes
    stderr_bytes: bytes


def _direct(host, argv, env, unset, timeout, stdin, cwd, max_file_size, cpus):
    """Run argv on this machine without a shell, env(1) or timeout(1); None if it cannot.

    The same command as command_line() makes, less three programs started
    for it: a shell, env and timeout were 4 to 5 ms of CPU a command
    (bench/generated.py), about 5 times what starting the program itself costs.
    The timeout is timeout(1)'s: the command in a process group of its own,
    SIGTERM to the group, SIGKILL KILL_AFTER seconds later, exit status 124
    (or 137 when it had to kill). Anything the shell would do differently
    (a program it cannot start, a folder it cannot enter) goes the shell's way,
    and so does a command given its own environment or limits: an exec:
    program's run, whose surroundings (timeout(1) its parent, env(1)'s
    environment) tests/test_exec_environment.py pins down.
    """
    backend = getattr(host, "backend", None)
    if getattr(backend, "NAME", None) != "local" or backend.sudo:
        return None
    if unset or set(env or ()) - {MARK} or max_file_size is not None or cpus is not None:
        return None
    if cwd is not None and not os.path.isdir(cwd):
        return None
    words = [str(a) for a in argv]
    environ = {**os.environ, **(env or {})}
    try:
        source = open(stdin, "rb") if stdin is not None else subprocess.DEVNULL
    except OSError:
        return None
    try:
        proc = subprocess.Popen(
            words,
            env=environ,
            cwd=cwd,
            stdin=source,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            process_group=0,
        )
    except OSError:
        return None
    finally:
        if stdin is not None:
            source.close()
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
        # A shell says 128+N for a command that signal N ended; Popen says -N.
        rc = proc.returncode if proc.returncode >= 0 else 128 - proc.returncode
        return _Output(rc, stdout, stderr)
    except subprocess.TimeoutExpired:
        _signal_group(proc, signal.SIGTERM)
        try:
            stdout, stderr = proc.communicate(timeout=KILL_AFTER)
            return _Output(TIMEOUT_STATUS, stdout, stderr)
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
            stdout, stderr = proc.communicate()
            return _Output(KILLED_STATUS, stdout, stderr)
    except BaseException:
        _signal_group(proc, signal.SIGKILL)
        proc.wait()
        raise


def _signal_group(proc, sig):
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


def new_mark():
    return secrets.token_hex(8)


def _kill_left(host, mark):
    from qcow2_conformance.tools import processes  # which runs its commands through run()

    try:
        killed = processes.kill_marked(host, mark)
    except Exception as e:  # the host itself failed: its agent kills its sessions on exit
        log.warning("could not look for the processes of an unfinished command: %s", e)
        return
    for pid, line in killed.items():
        log.warning("killed %d (%s), left by an unfinished command", pid, line[:200])


def shown(argv, width=400):
    """argv as a shell would take it, on one line, cut to width (QMP input can be megabytes)."""
    line = shlex.join(str(a) for a in argv).replace("\n", "\\n")
    return line if len(line) <= width else line[:width] + f"... ({len(line)} characters)"


@contextlib.contextmanager
def recorded():
    """Collect the log line of every command run inside the block, in a list."""
    lines = []
    handler = _ListHandler(lines)
    level = log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        yield lines
    finally:
        log.removeHandler(handler)
        log.setLevel(level)


class _ListHandler(logging.Handler):
    def __init__(self, lines):
        super().__init__(logging.INFO)
        self.lines = lines

    def emit(self, record):
        self.lines.append(self.format(record))
