"""Scenario descriptions: the catalog of qcow2 chains, as data (TOML)."""

from scenarios.loader import CatalogError, load_catalog, load_file  # noqa: F401
from scenarios.model import STATES, Bitmap, Image, Scenario  # noqa: F401
