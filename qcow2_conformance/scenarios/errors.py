"""The one error of the catalog."""


class CatalogError(Exception):
    """A scenario file that cannot be used; the message is one line."""
