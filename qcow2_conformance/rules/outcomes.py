"""The outcomes of a verdict, in one place, in the two orders the reports need."""

PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"

# The order counts are given in: 'N passed, N failed, N error, N skipped'.
OUTCOMES = (PASSED, FAILED, ERROR, SKIPPED)
# Worst first: a cell that stands for several verdicts shows the first found.
SEVERITY = (FAILED, ERROR, PASSED, SKIPPED)
# Outcomes that are findings: the rule did not hold, or could not be judged.
FINDINGS = (FAILED, ERROR)
