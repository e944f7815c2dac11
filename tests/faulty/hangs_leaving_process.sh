#!/bin/sh
# completes (timeout) and no-leftovers: hangs, and leaves a process in a session of
# its own, which the kill of the program's process group at the timeout misses.
setsid sleep 602 </dev/null >/dev/null 2>&1 &
exec sleep 3603
