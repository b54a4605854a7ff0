"""The catalog as a YAML file: strict parsing with line numbers (`gatewayz catalog load`)."""

from adapters.catalog_file.loader import CatalogFileError, load_catalog_file, parse_catalog

__all__ = ["CatalogFileError", "load_catalog_file", "parse_catalog"]
