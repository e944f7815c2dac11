"""Scenario descriptions: the catalog of qcow2 chains, as data (TOML)."""

from scenarios.model import Bitmap, Image, Scenario, STATES  # noqa: F401
from scenarios.loader import CatalogError, load_catalog, load_file  # noqa: F401
