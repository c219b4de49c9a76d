"""A local Hugging Face model through ``transformers`` (optional: imported only when used)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from pathlib import Path
from typing import Any

from modeldossier.errors import DossierError
from modeldossier.probing.models import ProbeItem, ProbeResponse
from modeldossier.probing.openai_compat import split_reasoning

DTYPES = ("float32", "float16", "bfloat16")
# files whose bytes decide what the model answers; weights count by name and size (hashing GBs is too slow)
_META_FILES = ("config.json", "generation_config.json", "tokenizer_config.json", "tokenizer.json",
               "special_tokens_map.json", "added_tokens.json", "chat_template.jinja", "chat_template.json",
               "model.safetensors.index.json")
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt")


def _import_backend() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise DossierError(
            f"the transformers target needs the optional packages transformers and torch ({exc.name} is missing): "
            "pip install transformers torch, or serve the model with vLLM/llama.cpp and use openai:URL"
        ) from None
    return transformers, torch


def folder_revision(path: Path) -> str | None:
    """A short hash of the folder's config, tokenizer and chat template files and its weight file names/sizes."""
    digest = hashlib.sha256()
    seen = False
    for name in _META_FILES:
        file = path / name
        if file.is_file():
            seen = True
            digest.update(f"{name}\0{file.stat().st_size}\0".encode())
            digest.update(file.read_bytes())
    for file in sorted(path.iterdir()):
        if file.is_file() and file.suffix in _WEIGHT_SUFFIXES:
            seen = True
            digest.update(f"{file.name}\0{file.stat().st_size}\0".encode())
    return digest.hexdigest()[:16] if seen else None


def template_text(template: Any) -> str | None:
    """The chat template as one string: a plain template, or several named ones as canonical JSON."""
    if isinstance(template, str):
        return template or None
    if isinstance(template, dict) and template:
        return json.dumps(template, sort_keys=True, ensure_ascii=False)
    if isinstance(template, list) and template:  # tokenizer_config form: [{"name": ..., "template": ...}]
        named = {t.get("name"): t.get("template") for t in template if isinstance(t, dict)}
        return template_text(named)
    return None


def folder_template(path: Path) -> str | None:
    """The chat template stored in the folder, read the way transformers finds it (no import needed)."""
    jinja = path / "chat_template.jinja"
    if jinja.is_file():
        return template_text(jinja.read_text(encoding="utf-8"))
    for name in ("chat_template.json", "tokenizer_config.json"):
        file = path / name
        if file.is_file():
            try:
                found = template_text(json.loads(file.read_text(encoding="utf-8")).get("chat_template"))
            except (ValueError, AttributeError):
                continue
            if found:
                return found
    return None


def _sha(text: str | None) -> str | None:
    return hashlib.sha256(text.encode("utf-8")).hexdigest() if text else None


class TransformersTarget:
    """Generates with ``AutoModelForCausalLM`` after applying the tokenizer's chat template (recorded by hash).

    Loads lazily on the first request; one generation at a time (a thread, so the event loop stays free).
    Remote code is never trusted (``trust_remote_code=False``: a folder whose ``auto_map`` names its own code
    loads only when transformers knows its ``model_type``, otherwise it is refused) and only safetensors
    weights are read (pickle-based ``.bin`` weights are refused).
    """

    def __init__(self, path: Path, *, device: str | None = None, dtype: str | None = None,
                 revision: str | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise DossierError(f"transformers: no model folder at {self.path}")
        if dtype is not None and dtype not in (*DTYPES, "auto"):
            raise DossierError(f"transformers: unknown dtype {dtype!r}: use one of {', '.join(DTYPES)}, auto")
        self.id = f"transformers:{self.path.resolve().name}"
        self.base_url: str | None = None
        self.revision = revision or folder_revision(self.path)
        self._device = device
        self._dtype = dtype
        self._model: Any = None
        self._tokenizer: Any = None
        self._template_sha: str | None = _sha(folder_template(self.path))
        self._eos: set[int] = set()
        self._lock: asyncio.Lock | None = None

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "kind": "transformers", "path": str(self.path), "revision": self.revision,
                "base_url": None, "chat_template_sha256": self._template_sha}

    def redact(self, text: str) -> str:
        return text

    async def open(self, *, max_connections: int) -> None:
        self._lock = asyncio.Lock()
        if self._model is None:
            await asyncio.to_thread(self._load)

    async def aclose(self) -> None:
        self._lock = None

    def _load(self) -> None:
        transformers, torch = _import_backend()
        transformers.utils.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
        if not any(self.path.glob("*.safetensors")):
            pickled = sorted(p.name for p in self.path.iterdir() if p.suffix in _WEIGHT_SUFFIXES)
            why = f"only pickle-based weights ({', '.join(pickled[:3])})" if pickled else "no weights"
            raise DossierError(f"transformers: {self.path} has {why}; only safetensors weights are loaded "
                               "(convert them, or serve the model with vLLM/llama.cpp and use openai:URL)")
        try:
            tokenizer = transformers.AutoTokenizer.from_pretrained(self.path, trust_remote_code=False)
            kwargs: dict[str, Any] = {"trust_remote_code": False, "use_safetensors": True}
            if self._dtype:
                kwargs["dtype"] = "auto" if self._dtype == "auto" else getattr(torch, self._dtype)
            model = transformers.AutoModelForCausalLM.from_pretrained(self.path, **kwargs)
            if self._device:
                model.to(self._device)
        except Exception as exc:  # noqa: BLE001 - any loader failure is a bad model folder, one line
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise DossierError(f"transformers: cannot load {self.path}: {first}") from None
        template = template_text(getattr(tokenizer, "chat_template", None))
        if not template:
            raise DossierError(f"transformers: {self.path} has no chat template; cannot build chat prompts")
        model.eval()
        self._template_sha = _sha(template)
        eos = model.generation_config.eos_token_id if model.generation_config is not None else None
        eos = tokenizer.eos_token_id if eos is None else eos
        self._eos = set(eos if isinstance(eos, list) else [] if eos is None else [eos])
        self._tokenizer, self._model = tokenizer, model

    def _generate(self, item: ProbeItem, params: dict[str, Any], sample: int) -> ProbeResponse:
        _, torch = _import_backend()
        messages = [m.model_dump(exclude_none=True) for m in item.messages]
        prompt = self._tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        inputs = self._tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(self._model.device)
        temperature = float(params.get("temperature", 0.0))
        gen: dict[str, Any] = {"max_new_tokens": int(params.get("max_tokens", 512))}
        if temperature > 0:
            gen.update(do_sample=True, temperature=temperature, top_p=float(params.get("top_p", 1.0)))
            torch.manual_seed(int(params.get("seed", 0)) * 1000 + sample)
        else:
            gen.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        pad = self._tokenizer.pad_token_id
        if pad is None and self._eos:
            pad = min(self._eos)
        if pad is not None:
            gen["pad_token_id"] = pad
        started = time.perf_counter()
        with torch.inference_mode():
            output = self._model.generate(**inputs, **gen)
        new_tokens = output[0][inputs["input_ids"].shape[1]:].tolist()
        text = self._tokenizer.decode(new_tokens, skip_special_tokens=True)
        content, reasoning = split_reasoning(text)
        if new_tokens and new_tokens[-1] in self._eos:
            finish = "stop"
        else:
            finish = "length" if len(new_tokens) >= gen["max_new_tokens"] else "stop"
        return ProbeResponse(
            item_id=item.id, sample=sample, content=content, reasoning=reasoning, finish_reason=finish,
            latency_s=time.perf_counter() - started,
            usage={"prompt_tokens": int(inputs["input_ids"].shape[1]), "completion_tokens": len(new_tokens)},
            detail={"chat_template_sha256": self._template_sha, "prompt": prompt,
                    "generation": {k: v for k, v in gen.items() if v is not None}},
        )

    async def complete(self, item: ProbeItem, *, params: dict[str, Any], sample: int) -> ProbeResponse:
        if self._model is None or self._lock is None:
            await self.open(max_connections=1)
        assert self._lock is not None
        async with self._lock:
            return await asyncio.to_thread(self._generate, item, params, sample)
