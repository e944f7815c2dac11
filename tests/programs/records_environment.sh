#!/bin/sh
# Conformant: records what it was given into $HARNESS_TEST_REPORT.env (env -0),
# $HARNESS_TEST_REPORT.limits and .facts, then takes the snapshot correctly.
# A shell script, so no interpreter (pyenv's, a venv's) edits the environment first.
env -0 > "$HARNESS_TEST_REPORT.env"
cat /proc/$$/limits > "$HARNESS_TEST_REPORT.limits"
{
    echo "args=$#"
    echo "active=$1"
    echo "overlay=$2"
    echo "cwd=$(pwd -P)"
    echo "umask=$(umask)"
    echo "fsize=$(awk '/^Max file size/ {print $4}' /proc/$$/limits)"
    echo "stdin_device=$(stat -L -c %t:%T /proc/$$/fd/0)"
    echo "stdin_bytes=$(wc -c)"
    echo "pid=$$"
    echo "ppid=$PPID"
    echo "parent=$(cat /proc/$PPID/comm)"
    echo "pgid=$(cut -d' ' -f5 /proc/$$/stat)"
    [ -d "$HOME" ] && [ -w "$HOME" ] && echo "home_is_folder=yes"
    [ -d "$TMPDIR" ] && [ -w "$TMPDIR" ] && echo "tmpdir_is_folder=yes"
} > "$HARNESS_TEST_REPORT.facts"
exec "$(dirname "$0")/unix_socket.py" "$@"
