"""A local Hugging Face model through ``transformers`` (optional: imported only when used)."""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path
from typing import Any

from modeldossier.errors import DossierError
from modeldossier.probing.models import ProbeItem, ProbeResponse
from modeldossier.probing.openai_compat import split_reasoning


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


class TransformersTarget:
    """Generates with ``AutoModelForCausalLM`` after applying the tokenizer's chat template (recorded by hash).

    Loads lazily on the first request; one generation at a time (a thread, so the event loop stays free).
    Remote code is never trusted (``trust_remote_code=False``).
    """

    def __init__(self, path: Path, *, device: str | None = None, dtype: str | None = None,
                 revision: str | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise DossierError(f"transformers: no model folder at {self.path}")
        self.id = f"transformers:{self.path.resolve().name}"
        self.base_url: str | None = None
        config = self.path / "config.json"
        self.revision = revision or (hashlib.sha256(config.read_bytes()).hexdigest()[:16] if config.is_file() else None)
        self._device = device
        self._dtype = dtype
        self._model: Any = None
        self._tokenizer: Any = None
        self._template_sha: str | None = None
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
        try:
            self._tokenizer = transformers.AutoTokenizer.from_pretrained(self.path, trust_remote_code=False)
            kwargs: dict[str, Any] = {"trust_remote_code": False}
            if self._dtype:
                kwargs["torch_dtype"] = getattr(torch, self._dtype)
            self._model = transformers.AutoModelForCausalLM.from_pretrained(self.path, **kwargs)
        except (OSError, ValueError) as exc:
            raise DossierError(f"transformers: cannot load {self.path}: {str(exc).splitlines()[0]}") from None
        if self._device:
            self._model.to(self._device)
        template = getattr(self._tokenizer, "chat_template", None)
        if not template:
            raise DossierError(f"transformers: {self.path} has no chat template; cannot build chat prompts")
        self._template_sha = hashlib.sha256(template.encode("utf-8")).hexdigest()

    def _generate(self, item: ProbeItem, params: dict[str, Any], sample: int) -> ProbeResponse:
        _, torch = _import_backend()
        messages = [m.model_dump() for m in item.messages]
        prompt = self._tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        inputs = self._tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(self._model.device)
        temperature = float(params.get("temperature", 0.0))
        gen: dict[str, Any] = {"max_new_tokens": int(params.get("max_tokens", 512))}
        if temperature > 0:
            gen.update(do_sample=True, temperature=temperature, top_p=float(params.get("top_p", 1.0)))
            torch.manual_seed(int(params.get("seed", 0)) * 1000 + sample)
        else:
            gen["do_sample"] = False
        started = time.perf_counter()
        output = self._model.generate(**inputs, **gen)
        new_tokens = output[0][inputs["input_ids"].shape[1]:]
        text = self._tokenizer.decode(new_tokens, skip_special_tokens=True)
        content, reasoning = split_reasoning(text)
        finish = "length" if len(new_tokens) >= gen["max_new_tokens"] else "stop"
        return ProbeResponse(
            item_id=item.id, sample=sample, content=content, reasoning=reasoning, finish_reason=finish,
            latency_s=time.perf_counter() - started,
            usage={"prompt_tokens": int(inputs["input_ids"].shape[1]), "completion_tokens": len(new_tokens)},
            detail={"chat_template_sha256": self._template_sha, "prompt": prompt},
        )

    async def complete(self, item: ProbeItem, *, params: dict[str, Any], sample: int) -> ProbeResponse:
        if self._model is None or self._lock is None:
            await self.open(max_connections=1)
        assert self._lock is not None
        async with self._lock:
            return await asyncio.to_thread(self._generate, item, params, sample)
