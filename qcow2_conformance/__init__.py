"""A conformance harness for qcow2 dirty bitmaps under external snapshots and commits."""

# The one place the version is written: pyproject.toml and the results file read it.
__version__ = "0.2.0"
