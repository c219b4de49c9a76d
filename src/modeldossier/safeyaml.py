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
    return safe_yaml_node(text, max_nodes)[0]


def safe_yaml_node(text: str, max_nodes: int = MAX_EXPANDED_NODES) -> tuple[Any, yaml.Node | None]:
    """``safe_yaml`` plus the composed node tree (for line numbers), from one parse.

    libyaml's loader is used when PyYAML has it (about 15x faster on large suites); text it refuses (it is
    stricter, e.g. about surrogate escapes) is read again by the pure-Python loader, so results match the latter.
    """
    fast = getattr(yaml, "CSafeLoader", None)
    anchors = "&" in text  # without an anchor there is no alias, so nothing to expand or count
    if fast is not None:
        try:
            return _load(fast(text), max_nodes, anchors, scrub=False)  # libyaml refuses lone surrogates
        except yaml.YAMLError:
            pass
    return _load(yaml.SafeLoader(text), max_nodes, anchors, scrub=True)


def _load(loader: Any, max_nodes: int, anchors: bool, *, scrub: bool) -> tuple[Any, yaml.Node | None]:
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        budget = max_nodes
        stack = [node] if anchors else []
        while stack:  # every visit counts, so a node reached through N aliases counts N times
            current = stack.pop()
            budget -= 1
            if budget < 0:
                raise ValueError(f"YAML anchors/aliases expand to more than {max_nodes:,} nodes: not read")
            if not isinstance(current, yaml.ScalarNode):
                for item in current.value:
                    stack.extend(item if isinstance(item, tuple) else (item,))
        data = loader.construct_document(node) if anchors else _construct(node, loader)
        return (scrub_surrogates(data) if scrub else data), node
    finally:
        loader.dispose()


_STR, _SEQ, _MAP = "tag:yaml.org,2002:str", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"


def _construct(node: yaml.Node, loader: Any) -> Any:
    """Build a tree without anchors: strings, lists and string-keyed mappings directly (3x faster than the
    generic constructor on large suites); anything else (numbers, booleans, dates, merge keys, other keys)
    by the safe constructor itself, so the result is the same."""
    if isinstance(node, yaml.ScalarNode):
        return node.value if node.tag == _STR else loader.construct_object(node, deep=True)
    if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
        return [_construct(child, loader) for child in node.value]
    if isinstance(node, yaml.MappingNode) and node.tag == _MAP and all(
            isinstance(key, yaml.ScalarNode) and key.tag == _STR for key, _ in node.value):
        return {key.value: _construct(value, loader) for key, value in node.value}
    return loader.construct_object(node, deep=True)
