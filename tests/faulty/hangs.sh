#!/bin/sh
# completes (timeout): never returns, and leaves a child that ignores SIGTERM.
# The harness must cut it off and kill its whole process group.
sh -c 'trap "" TERM; exec sleep 3600' &
trap '' TERM
exec sleep 3601
