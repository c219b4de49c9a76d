"""Ecosystem share by origin and the local model inventory."""
