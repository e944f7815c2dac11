#!/bin/sh
# overlay-only: leaves a file in HOME and one in TMPDIR, names its HOME in
# $HARNESS_TEST_REPORT, then ends as $HARNESS_TEST_ENDING says: exit 0 (no
# OVERLAY made), fail, or hang until the harness kills it.
echo "history" > "$HOME/.tool-history"
mkdir -p "$TMPDIR/work" && echo "scratch" > "$TMPDIR/work/left.tmp"
echo "$HOME" > "$HARNESS_TEST_REPORT"
case $HARNESS_TEST_ENDING in
    fails) exit 3 ;;
    hangs) exec sleep 3600 ;;
esac
