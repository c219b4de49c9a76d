from typing import IO, Any

import yaml


def load_yaml_config(stream: IO[str]) -> dict[str, Any]:
    """Parse an uploaded YAML settings file (a file object) into a dict, without arbitrary tags."""
    return yaml.load(stream, Loader=yaml.SafeLoader) or {}
