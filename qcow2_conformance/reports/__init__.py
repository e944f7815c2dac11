"""Results: the results file, JUnit XML beside it, and the end-of-run table."""
