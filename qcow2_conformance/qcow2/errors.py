"""Errors raised by the qcow2 reader."""


class Qcow2Error(ValueError):
    """The file is not a qcow2 image, is damaged, or uses an unsupported
    feature. The message names the field and its byte offset."""


def at(what, offset, problem):
    """Build an error in the one format callers grep for."""
    return Qcow2Error(f"{what} at offset {offset:#x}: {problem}")
