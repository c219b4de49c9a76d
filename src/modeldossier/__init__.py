"""modeldossier: what is inside the AI model you rely on."""

__version__ = "0.1.0"
