"""Fleet audits: one dossier per subject of a manifest, on a local process pool or a Ray cluster."""
