"""Image and video generators: targets, the paired visual suite, outcome detection and statistics."""
