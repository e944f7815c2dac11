"""The outcomes of a verdict, in one place, in the two orders the reports need.

refused: the implementation exited non-zero and changed nothing (the
procedure's completes rule says so, and the run's other rules are skipped):
not conformant on that scenario, but safe, and reported apart from failures.
"""

PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"
REFUSED = "refused"

# The order counts are given in: 'N passed, N failed, N refused, N error, N skipped'.
OUTCOMES = (PASSED, FAILED, REFUSED, ERROR, SKIPPED)
# Worst first: a cell that stands for several verdicts shows the first found.
SEVERITY = (FAILED, ERROR, REFUSED, PASSED, SKIPPED)
# Outcomes that are findings: the rule did not hold, the implementation refused, or the
# rule could not be judged.
FINDINGS = (FAILED, REFUSED, ERROR)
