"""Declared lineage: what the model's own files say (card YAML, config.json, generation/tokenizer config, GGUF).

Every reader returns evidence; a file that is missing or malformed becomes an unavailable evidence entry with the
reason, so the rest of the analysis still runs.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from modeldossier.artifacts.sniff import is_gguf_file
from modeldossier.errors import DossierError
from modeldossier.provenance.gguf_meta import read_metadata
from modeldossier.provenance.models import Evidence
from modeldossier.safeyaml import safe_yaml

MAX_JSON = 16 * 1024 * 1024
MAX_CARD = 2 * 1024 * 1024
MAX_GGUF_FILES = 8
MAX_VALUE = 8 * 1024  # characters of JSON kept for one evidence value
MAX_DEPTH = 32  # list/dict nesting kept for one evidence value
CARD_KEYS = ("base_model", "base_model_relation", "license", "license_name", "datasets", "language",
             "library_name", "pipeline_tag", "model_creator", "model_name")
CONFIG_KEYS = ("architectures", "model_type", "_name_or_path", "vocab_size", "hidden_size", "num_hidden_layers",
               "num_attention_heads", "num_key_value_heads", "intermediate_size", "max_position_embeddings",
               "rope_theta", "rope_scaling", "torch_dtype", "transformers_version", "bos_token_id", "eos_token_id",
               "n_embd", "n_layer", "n_head", "d_model", "num_layers", "multi_query_group_num", "padded_vocab_size",
               "tie_word_embeddings", "sliding_window")
GENERATION_KEYS = ("bos_token_id", "eos_token_id", "pad_token_id", "decoder_start_token_id")
TOKENIZER_CONFIG_KEYS = ("tokenizer_class", "bos_token", "eos_token", "unk_token", "pad_token", "model_max_length",
                         "add_bos_token", "add_eos_token", "name_or_path")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(\r?\n|\Z)", re.DOTALL)


@dataclass
class Declared:
    """Everything the files declare, ready for the observed analysis."""

    evidence: list[Evidence] = field(default_factory=list)
    base_models: list[str] = field(default_factory=list)
    base_relation: str | None = None
    license: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    tokenizer_json: Path | None = None
    tokenizer_other: Path | None = None
    gguf_files: list[Path] = field(default_factory=list)
    gguf_meta: dict[Path, dict[str, Any]] = field(default_factory=dict)
    organizations: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


def _unavailable(kind: str, source: str, reason: str) -> Evidence:
    return Evidence(kind=kind, value=None, source=source, available=False, reason=reason)


def _read_json(path: Path) -> dict[str, Any]:
    size = path.stat().st_size
    if size > MAX_JSON:
        raise ValueError(f"{size} bytes is above the {MAX_JSON}-byte limit")
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str | int | float)]
    return [str(value)]


def read_card(path: Path, out: Declared) -> None:
    """Model card YAML front matter: base_model, relation, license, datasets, language."""
    source = path.name
    try:
        if path.stat().st_size > MAX_CARD:
            raise ValueError(f"card is above the {MAX_CARD}-byte limit")
        text = path.read_text(encoding="utf-8", errors="replace")
        match = _FRONT_MATTER.match(text)
        if not match:
            out.evidence.append(_unavailable("model_card.metadata", source, "no YAML front matter in the card"))
            return
        meta = safe_yaml(match.group(1))
        if meta is None:
            meta = {}
        if not isinstance(meta, dict):
            raise ValueError("front matter is not a mapping")
    except (OSError, ValueError, RecursionError, yaml.YAMLError) as exc:
        reason = _one_line(exc)
        out.evidence.append(_unavailable("model_card.metadata", source, f"unreadable card metadata: {reason}"))
        return
    for key in CARD_KEYS:
        if key in meta and meta[key] not in (None, "", []):
            out.evidence.append(Evidence(kind=f"model_card.{key}", value=_jsonable(meta[key]), source=source))
    out.base_models.extend(b for b in _as_list(meta.get("base_model")) if b not in out.base_models)
    if isinstance(meta.get("base_model_relation"), str):
        out.base_relation = meta["base_model_relation"]
    if isinstance(meta.get("license"), str):
        out.license = meta["license"]
    if isinstance(meta.get("model_name"), str):
        out.names.append(meta["model_name"])
    if "base_model" not in meta:
        out.evidence.append(_unavailable("model_card.base_model", source, "the card names no base_model"))


def _one_line(exc: BaseException) -> str:
    """The first line of an error message, at most 200 characters (the type name when it has none)."""
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _jsonable(value: Any) -> Any:
    """``value`` when it is JSON data of at most MAX_VALUE characters, else a short string in its place."""
    try:
        text = json.dumps(value)
    except RecursionError:
        return "(value nested too deeply)"
    except (TypeError, ValueError):
        try:
            value = text = str(value)
        except (RecursionError, ValueError):
            return f"({type(value).__name__} value)"
    if len(text) > MAX_VALUE:
        return text[:MAX_VALUE] + f"… ({len(text)} characters)"
    return text if _too_deep(value) else value  # the dossier's JSON writer refuses deep nesting


def _too_deep(value: Any) -> bool:
    """True when lists/dicts in ``value`` nest deeper than MAX_DEPTH (walks a small value, no recursion)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list | tuple):
            if depth >= MAX_DEPTH:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


def read_json_file(path: Path, prefix: str, keys: tuple[str, ...], out: Declared) -> dict[str, Any] | None:
    """Selected keys of a JSON config file as evidence; None (and an unavailable entry) when unreadable."""
    try:
        data = _read_json(path)
    except (OSError, ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        out.evidence.append(_unavailable(prefix, path.name, f"unreadable: {_one_line(exc)}"))
        return None
    for key in keys:
        if key in data and data[key] is not None:
            out.evidence.append(Evidence(kind=f"{prefix}.{key}", value=_jsonable(data[key]), source=path.name))
    return data


def read_tokenizer_config(path: Path, out: Declared) -> None:
    """tokenizer_config.json: class, special tokens, and a hash of the chat template (not the template)."""
    data = read_json_file(path, "tokenizer_config", TOKENIZER_CONFIG_KEYS, out)
    if data and isinstance(data.get("chat_template"), str):
        digest = hashlib.sha256(data["chat_template"].encode("utf-8")).hexdigest()
        out.evidence.append(Evidence(kind="tokenizer_config.chat_template_sha256", value=digest, source=path.name))


def read_gguf(path: Path, out: Declared, root: Path) -> None:
    """GGUF `general.*` keys (incl. general.base_model.N.*), tokenizer model/pre and the architecture's sizes."""
    source = str(path.relative_to(root)) if path != root and root in path.parents else path.name
    try:
        meta = read_metadata(path)
    except DossierError as exc:
        out.evidence.append(_unavailable("gguf.metadata", source, str(exc)))
        return
    out.gguf_files.append(path)
    out.gguf_meta[path] = meta
    arch = meta.get("general.architecture")
    for key, value in meta.items():
        if key.startswith("general.") or key in ("tokenizer.ggml.model", "tokenizer.ggml.pre", "GGUF.version"):
            out.evidence.append(Evidence(kind=f"gguf.{key}", value=_jsonable(value), source=source))
    count = meta.get("general.base_model.count")
    for i in range(int(count) if isinstance(count, int) and 0 < count < 64 else 0):
        name = meta.get(f"general.base_model.{i}.repo_url") or meta.get(f"general.base_model.{i}.name")
        org = meta.get(f"general.base_model.{i}.organization")
        repo = _hub_id_from(meta.get(f"general.base_model.{i}.repo_url")) or (
            f"{org}/{meta.get(f'general.base_model.{i}.name')}" if org and meta.get(f"general.base_model.{i}.name")
            else name)
        if repo and repo not in out.base_models:
            out.base_models.append(str(repo))
    if isinstance(meta.get("general.license"), str) and not out.license:
        out.license = meta["general.license"]
    if isinstance(meta.get("general.organization"), str):
        out.organizations.append(meta["general.organization"])
    out.names.extend(str(meta[k]) for k in ("general.name", "general.basename", "general.finetune") if meta.get(k))
    if arch and not out.config:
        sizes = {
            "model_type": arch,
            "hidden_size": meta.get(f"{arch}.embedding_length"),
            "num_hidden_layers": meta.get(f"{arch}.block_count"),
            "num_attention_heads": meta.get(f"{arch}.attention.head_count"),
            "num_key_value_heads": meta.get(f"{arch}.attention.head_count_kv"),
            "rope_theta": meta.get(f"{arch}.rope.freq_base"),
            "vocab_size": len(meta["tokenizer.ggml.tokens"]) if isinstance(meta.get("tokenizer.ggml.tokens"), list)
            else meta.get(f"{arch}.vocab_size"),
        }
        out.config = {k: v for k, v in sizes.items() if v is not None}


def _hub_id_from(url: Any) -> str | None:
    if not isinstance(url, str):
        return None
    match = re.match(r"https?://huggingface\.co/([\w.-]+/[\w.-]+)", url)
    return match.group(1) if match else None


def find_files(root: Path) -> dict[str, list[Path]]:
    """Known provenance files under ``root`` (a folder or a single file), top level first."""
    if root.is_file():
        if root.suffix == ".tiktoken" or root.name == "tiktoken.model":
            return {"tiktoken": [root]}
        if root.name in ("tokenizer.json", "tokenizer.model", "vocab.txt"):
            return {root.name: [root]}
        return {"gguf": [root]} if is_gguf_file(root) else {"other": [root]}
    found: dict[str, list[Path]] = {}
    for name in ("README.md", "config.json", "generation_config.json", "tokenizer_config.json", "tokenizer.json",
                 "tokenizer.model", "vocab.txt"):
        if (root / name).is_file():
            found[name] = [root / name]
    tiktoken = sorted(p for p in root.glob("*.tiktoken") if p.is_file()) + [
        root / n for n in ("tiktoken.model",) if (root / n).is_file()]
    if tiktoken:
        found["tiktoken"] = tiktoken[:1]
    from modeldossier.subject import list_files

    ggufs = [p for p in list_files(root) if p.suffix.lower() == ".gguf" and is_gguf_file(p)]
    if ggufs:
        found["gguf"] = ggufs[:MAX_GGUF_FILES]
    return found



def read_declared(root: Path) -> Declared:
    """All declared evidence under ``root``; never raises for a malformed file."""
    out = Declared(names=[root.name])
    files = find_files(root)
    if "README.md" in files:
        read_card(files["README.md"][0], out)
    elif root.is_dir():
        out.evidence.append(_unavailable("model_card.metadata", "README.md", "no model card (README.md) found"))
    if "config.json" in files:
        config = read_json_file(files["config.json"][0], "config", CONFIG_KEYS, out)
        if config:
            out.config = {k: config[k] for k in CONFIG_KEYS if k in config}
            if isinstance(config.get("_name_or_path"), str):
                out.names.append(config["_name_or_path"])
    elif root.is_dir():
        out.evidence.append(_unavailable("config", "config.json", "no config.json found"))
    if "generation_config.json" in files:
        read_json_file(files["generation_config.json"][0], "generation_config", GENERATION_KEYS, out)
    if "tokenizer_config.json" in files:
        read_tokenizer_config(files["tokenizer_config.json"][0], out)
    if "tokenizer.json" in files:
        out.tokenizer_json = files["tokenizer.json"][0]
    for name in ("tokenizer.model", "tiktoken", "vocab.txt"):
        if name in files and out.tokenizer_other is None:
            out.tokenizer_other = files[name][0]
    for path in files.get("gguf", []):
        read_gguf(path, out, root)
    if "other" in files:
        out.evidence.append(_unavailable("declared", root.name, "not a model folder, tokenizer.json or GGUF file"))
    return out
