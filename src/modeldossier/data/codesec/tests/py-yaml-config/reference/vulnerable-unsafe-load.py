import os

import yaml


def load_config(file_path: str) -> dict:
    """Load a YAML config uploaded by the user."""
    if not os.path.exists(file_path):
        raise FileNotFoundError(file_path)
    with open(file_path, "r", encoding="utf-8") as fh:
        data = yaml.unsafe_load(fh)
    return data or {}
