"""Scenario descriptions: the catalog of qcow2 chains, as data (TOML)."""

from qcow2_conformance.scenarios.loader import CatalogError, load_catalog, load_file  # noqa: F401
from qcow2_conformance.scenarios.model import STATES, Bitmap, Image, Scenario  # noqa: F401
