"""One module per CLI sub-command; each exposes ``register(app)``. The CLI discovers them all."""
