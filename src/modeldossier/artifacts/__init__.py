"""Artifact security: find anything in model files that could run code, leak data or hide instructions."""
