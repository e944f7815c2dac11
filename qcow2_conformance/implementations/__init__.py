"""Implementations of the snapshot procedure that the harness judges."""
