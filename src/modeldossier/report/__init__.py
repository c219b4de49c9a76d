"""Renderers: HTML, Markdown, SARIF, CycloneDX from dossiers."""
