"""A conformance harness for qcow2 dirty bitmaps under external snapshots and commits.

PYTEST_DONT_REWRITE: the console scripts import this module before pytest
starts, so pytest cannot rewrite its asserts (it has none) and, unless told
here, warns so at every run. The subpackages are imported later and rewritten.
"""

# The one place the version is written: pyproject.toml and the results file read it.
__version__ = "0.2.0"
