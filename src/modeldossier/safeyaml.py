"""YAML from untrusted files: the safe loader, with alias expansion bounded before anything is built."""

from __future__ import annotations

from typing import Any

import yaml

from modeldossier.common import scrub_surrogates

MAX_EXPANDED_NODES = 1_000_000  # nodes after expanding aliases; a "billion laughs" file would need billions


def safe_yaml(text: str, max_nodes: int = MAX_EXPANDED_NODES) -> Any:
    """YAML text as plain data (safe loader).

    ValueError when expanding its aliases would make more than ``max_nodes`` nodes (a "billion laughs" file
    would take gigabytes); RecursionError when nested too deeply. Ordinary anchors and merge keys still work.
    Lone surrogates (escaped in double-quoted YAML) become U+FFFD.
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        budget = max_nodes
        stack = [node]
        while stack:  # every visit counts, so a node reached through N aliases counts N times
            current = stack.pop()
            budget -= 1
            if budget < 0:
                raise ValueError(f"YAML anchors/aliases expand to more than {max_nodes:,} nodes: not read")
            if not isinstance(current, yaml.ScalarNode):
                for item in current.value:
                    stack.extend(item if isinstance(item, tuple) else (item,))
        return scrub_surrogates(loader.construct_document(node))
    finally:
        loader.dispose()
