"""The YAML that describes an asynchronous media job API: endpoints, auth, JSON paths, status values, timing.

Example (every key but ``text``, ``error`` and ``body`` is required)::

    version: 1
    name: my-video-service
    submit: {url: "https://api.example/v1/videos", method: POST, body: {model: v2, prompt: "{prompt}"}}
    poll: {url: "https://api.example/v1/videos/{job_id}"}
    auth: {header: Authorization, prefix: "Bearer ", env: EXAMPLE_API_KEY}
    paths: {job_id: data.id, status: data.status, result_url: data.videos.0.url, error: data.message}
    status: {done: [succeed], failed: [failed]}
    poll_interval_s: 5
    timeout_s: 900
    max_media_bytes: 104857600

The key itself is never in the file: only the name of the environment variable that holds it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlsplit

import yaml
from pydantic import Field, ValidationError, field_validator

from modeldossier.common import Model
from modeldossier.errors import DossierError


def get_path(data: Any, path: str | None) -> Any:
    """The value at a dotted path (``data.videos.0.url``; integers index lists), or None."""
    if not path:
        return None
    for part in path.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.lstrip("-").isdigit() and -len(data) <= int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL")
    if "@" in parts.netloc:
        raise ValueError("credentials in the URL are not accepted: name an environment variable under auth.env")
    try:
        parts.port  # noqa: B018 - urlsplit checks the port lazily
    except ValueError:
        raise ValueError("the port must be a number from 1 to 65535") from None
    return value


class Submit(Model):
    """Where and how a job is submitted; ``body`` strings may hold ``{prompt}``."""

    url: str
    method: Literal["POST", "PUT"] = "POST"
    body: dict[str, Any] = Field(default_factory=lambda: {"prompt": "{prompt}"})

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value)


class Poll(Model):
    """Where a job's state is read; the URL holds ``{job_id}``."""

    url: str

    @field_validator("url")
    @classmethod
    def _job_id(cls, value: str) -> str:
        if "{job_id}" not in value:
            raise ValueError("must contain {job_id}")
        return _http_url(value.replace("{job_id}", "x")) and value


class Auth(Model):
    """The header that carries the key, its prefix, and the environment variable holding the key."""

    header: str = "Authorization"
    prefix: str = "Bearer "
    env: str | None = None


class Paths(Model):
    """Dotted JSON paths into the submit/poll answers."""

    job_id: str
    status: str
    result_url: str
    error: str | None = None
    text: str | None = Field(default=None, description="a text answer given instead of media")


class Statuses(Model):
    """Status values meaning the job finished (``done``) or was declined/failed (``failed``)."""

    done: list[str] = Field(min_length=1)
    failed: list[str] = Field(default_factory=list)


class JobConfig(Model):
    """A validated job-API description and the hash of its file."""

    version: int | str = 1
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$")
    submit: Submit
    poll: Poll
    auth: Auth = Field(default_factory=Auth)
    paths: Paths
    status: Statuses
    poll_interval_s: float = Field(default=5.0, gt=0, le=600)
    timeout_s: float = Field(default=900.0, gt=0, le=86400)
    max_media_bytes: int = Field(default=100 * 1024 * 1024, gt=0, le=2 * 1024**3)
    sha256: str = ""

    def submit_body(self, prompt: str, params: dict[str, Any]) -> dict[str, Any]:
        """The submit body with ``{prompt}`` filled in, then ``--param`` values on top."""
        def fill(value: Any) -> Any:
            if isinstance(value, str):
                return value.replace("{prompt}", prompt)
            if isinstance(value, dict):
                return {k: fill(v) for k, v in value.items()}
            if isinstance(value, list):
                return [fill(v) for v in value]
            return value
        return {**fill(self.submit.body), **params}

    def poll_url(self, job_id: str) -> str:
        """The poll URL for one job (the id is URL-quoted)."""
        return self.poll.url.replace("{job_id}", quote(job_id, safe=""))


def load_job_config(path: Path) -> JobConfig:
    """Read and validate a job-API YAML; any problem is a one-line DossierError."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw.decode("utf-8"))
    except FileNotFoundError:
        raise DossierError(f"job API config not found: {path}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DossierError(f"cannot read job API config {path}: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise DossierError(f"job API config {path}: the top level must be a mapping")
    data.pop("sha256", None)
    try:
        config = JobConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "top level"
        raise DossierError(f"job API config {path}: {where}: {first['msg']}") from None
    return config.model_copy(update={"sha256": hashlib.sha256(raw).hexdigest()})
