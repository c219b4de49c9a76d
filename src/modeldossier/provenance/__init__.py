"""Provenance: declared and observed lineage, fingerprints and country evidence."""
