"""Target specs (``provider:model``) -> Target objects, with base URLs and keys from options or environment.

Spec forms::

    openai:http://host:8000/v1/MODEL      base URL up to the /vN segment, the rest is the model name
    openai:MODEL  (+ base_url=...)        or OPENAI_BASE_URL
    deepseek:deepseek-chat                named providers have default base URLs and read <PROVIDER>_API_KEY
    vllm:Qwen/Qwen2.5-7B-Instruct         local servers need no key
    transformers:./my-model               local Hugging Face folder (optional extra: transformers + torch)
    replay:runs/x.transcript.jsonl        answers from a recorded transcript
    mock:echo | mock:script.yaml          scripted answers (tests)
    images:http://host:8000/v1/MODEL      OpenAI-compatible image generation (media suite)
    media-job:./video-api.yaml            asynchronous media job API described by a YAML (media suite)
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from modeldossier.errors import DossierError
from modeldossier.probing.base import Target, TargetError, redact_secrets

__all__ = ["PROVIDERS", "Provider", "Target", "TargetError", "parse_target", "redact_secrets", "split_url"]


@dataclass(frozen=True)
class Provider:
    """A named OpenAI-compatible provider: default base URL, env prefixes, whether a key is required."""

    name: str
    base_url: str
    env: tuple[str, ...]
    needs_key: bool


PROVIDERS: dict[str, Provider] = {
    p.name: p
    for p in (
        Provider("openai", "https://api.openai.com/v1", ("OPENAI",), False),
        Provider("deepseek", "https://api.deepseek.com/v1", ("DEEPSEEK",), True),
        Provider("qwen", "https://dashscope-intl.aliyuncs.com/compatible-mode/v1", ("QWEN", "DASHSCOPE"), True),
        Provider("dashscope", "https://dashscope-intl.aliyuncs.com/compatible-mode/v1", ("DASHSCOPE",), True),
        Provider("moonshot", "https://api.moonshot.ai/v1", ("MOONSHOT",), True),
        Provider("zhipu", "https://open.bigmodel.cn/api/paas/v4", ("ZHIPU", "ZHIPUAI"), True),
        Provider("openrouter", "https://openrouter.ai/api/v1", ("OPENROUTER",), True),
        Provider("ollama", "http://localhost:11434/v1", ("OLLAMA",), False),
        Provider("vllm", "http://localhost:8000/v1", ("VLLM",), False),
        Provider("llamacpp", "http://localhost:8080/v1", ("LLAMACPP",), False),
    )
}
_LOCAL_KINDS = ("transformers", "replay", "mock")
_MEDIA_KINDS = ("images", "media-job")  # image/video generators: the media suite (modeldossier.media)
_VERSION_SEGMENT = re.compile(r"^v\d+$")


_ANY_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_HOST_LIKE = re.compile(
    r"^(localhost|\d{1,3}(\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]|([A-Za-z0-9-]+\.)+[A-Za-z]{2,})(:[^/]*)?(/|$)"
)


def looks_like_address(text: str) -> bool:
    """Whether a target's model part is really a URL or ``host[:port]/...`` (any scheme, any case)."""
    return bool(_ANY_SCHEME.match(text) or _HOST_LIKE.match(text))


def _check_port(netloc: str, where: str) -> None:
    """A DossierError for a port that is not a number in 1-65535 (urlsplit raises ValueError lazily)."""
    try:
        port = urlsplit(f"http://{netloc}").port
    except ValueError:
        port = -1
    if port is not None and not 0 < port < 65536:
        raise DossierError(f"{where}: the port must be a number from 1 to 65535")


def split_url(url: str) -> tuple[str, str]:
    """``http://h:8000/v1/org/model`` -> (``http://h:8000/v1``, ``org/model``).

    The base URL ends at the first ``/vN`` path segment; without one, the last segment is the model.
    Credentials in the URL (user:pass@) are refused: pass keys through the environment.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DossierError(f"the target URL must start with http:// or https:// (got scheme {parts.scheme!r})")
    _check_port(parts.netloc, "the target URL")
    if "@" in parts.netloc or parts.query or parts.fragment:
        raise DossierError("credentials or a query string in the target URL are not accepted: "
                           "set <PROVIDER>_API_KEY instead")
    segments = [s for s in parts.path.split("/") if s]
    cut = next((i for i, s in enumerate(segments) if _VERSION_SEGMENT.match(s)), None)
    if cut is None:
        cut = len(segments) - 2
    base_path, model = segments[: cut + 1], "/".join(segments[cut + 1 :])
    if not model:
        raise DossierError(f"no model name in {parts.scheme}://{parts.netloc}{parts.path}: "
                           "use openai:http://HOST:PORT/v1/MODEL")
    base = urlunsplit((parts.scheme, parts.netloc, "/" + "/".join(base_path) if base_path else "", "", ""))
    return base.rstrip("/"), model


def _env(prefixes: tuple[str, ...], suffix: str, environ: Mapping[str, str]) -> tuple[str | None, str | None]:
    """First set ``<PREFIX>_<SUFFIX>``: (value, variable name)."""
    for prefix in prefixes:
        name = f"{prefix}_{suffix}"
        if environ.get(name):
            return environ[name], name
    return None, None


def parse_target(
    spec: str,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    environ: Mapping[str, str] | None = None,
    **options: Any,
) -> Target:
    """Build the target a spec names. DossierError for an unknown provider, a bad URL or a missing key.

    Options: ``api_key_env`` (name of the variable holding the key), ``revision``, ``timeout``,
    ``connect_timeout``, ``headers``, ``http_client`` (auto|lean|httpx) (OpenAI-compatible);
    ``script``, ``latency``, ``name`` (mock); ``device``, ``dtype`` (transformers).
    """
    environ = os.environ if environ is None else environ
    provider_name, sep, rest = spec.partition(":")
    provider_name = provider_name.strip().lower()
    if not sep or not provider_name:
        raise DossierError(
            f"target {spec!r} has no provider: use provider:model, e.g. openai:http://localhost:8000/v1/MODEL"
        )
    if provider_name == "mock":
        return _mock(rest, options)
    if provider_name in _MEDIA_KINDS:
        from modeldossier.media.targets import build_media_target

        return build_media_target(provider_name, rest, base_url=base_url, api_key=api_key, environ=environ,
                                  options=options)
    if provider_name == "replay":
        from modeldossier.probing.scripted import ReplayTarget

        if not rest:
            raise DossierError("replay: needs a transcript path, e.g. replay:runs/model.transcript.jsonl")
        return ReplayTarget(Path(rest).expanduser(), name=options.get("name"))
    if provider_name == "transformers":
        from modeldossier.probing.hf_local import TransformersTarget

        if not rest:
            raise DossierError("transformers: needs a model folder, e.g. transformers:./my-model")
        return TransformersTarget(Path(rest).expanduser(), **_pick(options, "device", "dtype", "revision"))
    provider = PROVIDERS.get(provider_name)
    if provider is None:
        known = ", ".join([*PROVIDERS, *_LOCAL_KINDS, *_MEDIA_KINDS])
        raise DossierError(f"unknown target provider {provider_name!r}: use one of {known}")
    return _openai(provider, rest, base_url=base_url, api_key=api_key, environ=environ, options=options)


def _pick(options: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: options[k] for k in names if options.get(k) is not None}


def _openai(
    provider: Provider,
    rest: str,
    *,
    base_url: str | None,
    api_key: str | None,
    environ: Mapping[str, str],
    options: dict[str, Any],
) -> Target:
    from modeldossier.probing.openai_compat import OpenAICompatTarget

    rest = rest.strip()
    scheme = _ANY_SCHEME.match(rest)
    if scheme and scheme.group(1).lower() in ("http", "https"):
        url_base, model = split_url(scheme.group(1).lower() + rest[len(scheme.group(1)):])
        base_url = base_url or url_base
    elif looks_like_address(rest):
        # never fall through to the provider's default (cloud) base URL with what is really a local address
        raise DossierError(f"{provider.name}: the target looks like an address but is not an http(s) URL: write "
                           f"{provider.name}:http://HOST:PORT/v1/MODEL (scheme http or https)")
    else:
        model = rest
    if not model:
        raise DossierError(f"{provider.name}: no model name: use {provider.name}:MODEL")
    env_base, _ = _env(provider.env, "BASE_URL", environ)
    base_url = base_url or env_base or provider.base_url
    parts = urlsplit(base_url)
    if parts.scheme.lower() not in ("http", "https") or "@" in parts.netloc or parts.query or parts.fragment:
        # never echo it: a query string may hold a key
        raise DossierError(f"{provider.name}: the base URL must be http(s)://host[:port]/path, without "
                           "credentials or a query string (keys go in <PROVIDER>_API_KEY)")
    _check_port(parts.netloc, f"{provider.name}: the base URL")
    key_source = "option" if api_key else None
    key_env = options.get("api_key_env")
    if not api_key and key_env:
        api_key = environ.get(key_env)
        if not api_key:
            raise DossierError(f"{provider.name}: environment variable {key_env} is not set (--api-key-env)")
        key_source = key_env
    if not api_key:
        api_key, key_source = _env(provider.env, "API_KEY", environ)
    if not api_key and provider.needs_key and base_url == provider.base_url:
        names = " or ".join(f"{p}_API_KEY" for p in provider.env)
        raise DossierError(f"{provider.name}: no API key: set {names} (or --api-key-env NAME)")
    return OpenAICompatTarget(
        provider=provider.name,
        model=model,
        base_url=base_url,
        api_key=api_key,
        api_key_source=key_source,
        **_pick(options, "revision", "timeout", "connect_timeout", "headers", "http_client"),
    )


def _mock(rest: str, options: dict[str, Any]) -> Target:
    from modeldossier.probing.scripted import MockTarget, load_script

    script: Callable[..., Any] | Mapping[str, Any] | None = options.get("script")
    name = options.get("name") or rest or "echo"
    if script is None and rest and rest != "echo":
        path = Path(rest).expanduser()
        script = load_script(path)
        name = options.get("name") or path.stem
    return MockTarget(script, name=name, revision=options.get("revision"), latency=float(options.get("latency", 0)))

