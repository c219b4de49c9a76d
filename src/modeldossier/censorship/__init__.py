"""Censorship audit: paired suite, offline classifier, asymmetry statistics."""
