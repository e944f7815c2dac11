"""A lock between the processes of this machine, on a file: the others wait their turn.

flock(2), not the filelock package: filelock's waiters poll, every 50 ms by
default, so an xdist worker that met the other worker's lock slept 50 ms
even when it was let go at once (1 to 3 times a run, bench/parallel.py's
catalog). A flock waiter wakes when the holder lets go, and the kernel lets
go of the lock of a process that dies.
"""

import contextlib
import fcntl
import os


@contextlib.contextmanager
def held(path):
    """Hold the lock on path (created if missing) for the with block, waiting for it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # lets go of the lock


def is_held(path):
    """True while another open of path holds the lock; if none does, it is taken and let go."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
