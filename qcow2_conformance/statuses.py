"""The harness's exit statuses that are not pytest's own (docs/exit-statuses.md).

Standard library only: the console scripts import it before pytest starts.
"""

USAGE = 2  # bad input, found before any scenario runs
# The shell's statuses for a command that SIGINT, SIGPIPE or SIGTERM ended (128 + N).
INTERRUPTED = 130
BROKEN_PIPE = 141
TERMINATED = 143
