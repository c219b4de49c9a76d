"""Keras checker: ``.keras`` zip archives and legacy HDF5 models, from their JSON config only.

Finds Lambda layers (marshalled bytecode runs on load), layers or functions resolved from modules outside
Keras, ``TFOpLambda`` calls into file/Python APIs, and unsafe-deserialization switches. Keras and TensorFlow
are never imported; HDF5 is read with h5py (attributes only, no datasets).
"""

from __future__ import annotations

import json
import lzma
import multiprocessing
import struct
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any, BinaryIO

from modeldossier.artifacts.models import Finding
from modeldossier.common import Severity

FORMATS = ("keras-zip", "hdf5")
MAX_CONFIG_BYTES = 64 * 1024 * 1024
MAX_H5_LINKS = 20_000
H5_TIMEOUT_SECONDS = 30.0
KERAS_MODULE_PREFIXES = ("keras", "tf_keras", "tensorflow.keras", "tensorflow.python.keras", "keras_nlp",
                         "keras_hub", "keras_cv", "keras_rs", "tensorflow_hub")
DANGEROUS_MODULES = frozenset({"os", "posix", "nt", "subprocess", "builtins", "__builtin__", "sys", "importlib",
                               "runpy", "shutil", "socket", "pty", "code", "pickle", "marshal", "ctypes", "webbrowser",
                               "requests", "urllib", "http", "pdb", "commands", "tempfile", "pathlib"})
DANGEROUS_BUILTINS = frozenset({"exec", "eval", "compile", "__import__", "open", "getattr", "setattr", "input",
                                "breakpoint", "globals", "locals", "vars", "delattr"})
TFOP_DANGEROUS = ("io.", "write_file", "read_file", "py_function", "numpy_function", "raw_ops.", "compat.v1.py_func",
                  "debugging", "print", "summary", "gfile", "system")
EXPECTED_MEMBERS = frozenset({"config.json", "metadata.json", "model.weights.h5", "model.weights.npz", "assets"})
_MAX_PER_RULE = 20
# what the standard library raises on hostile archives
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, NotImplementedError, EOFError,
               RuntimeError, KeyError, UnicodeDecodeError, struct.error, zlib.error, lzma.LZMAError)


def _finding(rule: str, sev: Severity, msg: str, name: str, loc: str | None, ev: str | None = None) -> Finding:
    return Finding(rule_id=rule, severity=sev, message=msg, file=name, location=loc, evidence=ev)


def scan(stream: BinaryIO, name: str, size: int) -> list[Finding]:
    """Findings for a ``.keras`` zip or an HDF5 file (dispatch by the first bytes)."""
    stream.seek(0)
    head = stream.read(8)
    stream.seek(0)
    if head.startswith(b"PK"):
        return scan_keras_zip(stream, name, size)
    return scan_hdf5(stream, name, size)


def scan_keras_zip(stream: BinaryIO, name: str, size: int) -> list[Finding]:
    """Findings for a Keras v3 ``.keras`` archive: its member names and ``config.json``."""
    findings: list[Finding] = []
    try:
        archive = zipfile.ZipFile(stream)
        infos = archive.infolist()
    except _ZIP_ERRORS as exc:
        return [_finding("malformed.keras.zip", Severity.MEDIUM, f"not a readable zip archive: {exc}", name, None)]
    for info in infos[:10_000]:
        member = info.filename
        top = member.split("/", 1)[0]
        if member.startswith(("/", "\\")) or ".." in member.replace("\\", "/").split("/"):
            findings.append(_finding("keras.zip.path_traversal", Severity.HIGH,
                                     "archive member name escapes the extraction folder", name, f"member {member}",
                                     member))
        elif top not in EXPECTED_MEMBERS and len(findings) < _MAX_PER_RULE:
            sev = Severity.HIGH if member.endswith((".py", ".pkl", ".pickle", ".so", ".dll", ".pyc")) else Severity.LOW
            findings.append(_finding("keras.zip.unexpected_member", sev,
                                     "archive holds a member Keras does not write", name, f"member {member}", member))
    config_info = next((i for i in infos if i.filename == "config.json"), None)
    if config_info is None:
        findings.append(_finding("malformed.keras.config", Severity.MEDIUM, "archive has no config.json", name, None))
        return findings
    if config_info.file_size > MAX_CONFIG_BYTES:
        findings.append(_finding("keras.config.too_large", Severity.MEDIUM,
                                 f"config.json expands to {config_info.file_size:,} bytes; not analysed", name,
                                 "member config.json"))
        return findings
    try:
        with archive.open(config_info) as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except _ZIP_ERRORS as exc:
        findings.append(_finding("malformed.keras.zip", Severity.MEDIUM, f"config.json unreadable: {exc}", name,
                                 "member config.json"))
        return findings
    findings.extend(check_config_text(raw, name, "member config.json"))
    return findings


def scan_hdf5(stream: BinaryIO, name: str, size: int, timeout: float | None = None) -> list[Finding]:
    """Findings for an HDF5 file: Keras ``model_config`` attribute and external links.

    libhdf5 can spin forever on a corrupted file (seen in fuzzing), and a C call cannot be interrupted, so the
    read runs in a forked child that is killed after ``timeout`` seconds (in-process where fork is missing).
    """
    timeout = H5_TIMEOUT_SECONDS if timeout is None else timeout
    try:
        context = multiprocessing.get_context("fork")
    except ValueError:
        return _read_hdf5(stream, name)
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_hdf5_child, args=(stream, name, sender), daemon=True)
    child.start()
    sender.close()
    try:
        if receiver.poll(timeout):
            try:
                return [Finding.model_validate(item) for item in receiver.recv()]
            except (EOFError, OSError):
                return [_finding("malformed.hdf5", Severity.MEDIUM, "the HDF5 reader crashed on this file", name,
                                 None)]
        return [_finding("hdf5.parser_hang", Severity.MEDIUM,
                         f"the HDF5 library did not finish within {timeout:g} s (corrupted or hostile structure); "
                         "not verified", name, None)]
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join(5)


def _hdf5_child(stream: BinaryIO, name: str, sender: Any) -> None:
    """Runs in the forked child: read the file and send the findings back as plain dicts."""
    try:
        sender.send([f.model_dump(mode="json") for f in _read_hdf5(stream, name)])
    finally:
        sender.close()


def _read_hdf5(stream: BinaryIO, name: str) -> list[Finding]:
    import h5py

    findings: list[Finding] = []
    try:
        stream.seek(0)
        with h5py.File(stream, "r") as h5:
            for attr in ("model_config", "training_config"):
                if attr in h5.attrs:
                    value = h5.attrs[attr]
                    raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
                    if len(raw) > MAX_CONFIG_BYTES:
                        findings.append(_finding("keras.config.too_large", Severity.MEDIUM,
                                                 f"{attr} is {len(raw):,} bytes; not analysed", name, f"attr {attr}"))
                        continue
                    findings.extend(check_config_text(raw, name, f"attr {attr}"))
            findings.extend(_external_links(h5, name))
    except Exception as exc:  # h5py/libhdf5 raise OSError, OverflowError, ValueError... on hostile files
        findings.append(_finding("malformed.hdf5", Severity.MEDIUM, f"not a readable HDF5 file: {exc}"[:300], name,
                                 None))
    return findings


def _external_links(h5: Any, name: str) -> list[Finding]:
    import h5py

    found: list[Finding] = []
    seen = 0
    stack = [h5]
    while stack and seen < MAX_H5_LINKS:
        group = stack.pop()
        for key in group:
            seen += 1
            link = group.get(key, getlink=True)
            if isinstance(link, h5py.ExternalLink):
                found.append(_finding("hdf5.external_link", Severity.HIGH,
                                      "HDF5 external link makes readers open another file", name,
                                      f"link {group.name.rstrip('/')}/{key}", f"{link.filename}:{link.path}"))
            elif isinstance(link, h5py.HardLink):
                obj = group.get(key)
                if isinstance(obj, h5py.Group):
                    stack.append(obj)
            if seen >= MAX_H5_LINKS:
                break
    return found[:_MAX_PER_RULE]


def check_config_text(raw: bytes, name: str, where: str) -> list[Finding]:
    """Findings for a Keras model config given as JSON bytes."""
    try:
        config = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return [_finding("malformed.keras.config", Severity.MEDIUM, f"model config is not valid JSON: {exc}"[:200],
                         name, where)]
    except RecursionError:
        return [_finding("malformed.keras.config", Severity.HIGH, "model config nests too deeply", name, where)]
    findings: list[Finding] = []
    counts: dict[str, int] = {}
    try:
        for f in _walk_config(config, name, where):
            counts[f.rule_id] = counts.get(f.rule_id, 0) + 1
            if counts[f.rule_id] <= _MAX_PER_RULE:
                findings.append(f)
    except RecursionError:
        findings.append(_finding("malformed.keras.config", Severity.HIGH, "model config nests too deeply", name,
                                 where))
    return findings


def _objects(value: Any, path: str, depth: int = 0) -> Iterator[tuple[str, dict[str, Any]]]:
    if depth > 200:
        raise RecursionError
    if isinstance(value, dict):
        yield path, value
        for key, child in value.items():
            yield from _objects(child, f"{path}.{key}", depth + 1)
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _objects(child, f"{path}[{i}]", depth + 1)


def _layer_name(obj: dict[str, Any]) -> str:
    cfg = obj.get("config")
    return str(cfg.get("name")) if isinstance(cfg, dict) and cfg.get("name") else str(obj.get("class_name"))


def _walk_config(config: Any, name: str, where: str) -> Iterator[Finding]:
    for path, obj in _objects(config, "$"):
        loc = f"{where} {path}"
        class_name = obj.get("class_name")
        module = obj.get("module")
        if class_name == "Lambda":
            yield from _lambda(obj, name, loc)
        elif class_name == "__lambda__":
            cfg = obj.get("config") if isinstance(obj.get("config"), dict) else {}
            yield _finding("keras.lambda.code", Severity.CRITICAL,
                           "serialized Python lambda (marshalled bytecode runs when the model loads)", name, loc,
                           str(cfg.get("code", ""))[:120])
        elif class_name == "TFOpLambda":
            function = str((obj.get("config") or {}).get("function", "")) if isinstance(obj.get("config"),
                                                                                         dict) else ""
            bad = any(marker in function for marker in TFOP_DANGEROUS)
            yield _finding("keras.tfoplambda", Severity.CRITICAL if bad else Severity.MEDIUM,
                           f"TFOpLambda layer calls TensorFlow function {function!r} by name", name, loc, function)
        if isinstance(module, str) and class_name is not None:
            root = module.split(".", 1)[0]
            if root in DANGEROUS_MODULES:
                yield _finding("keras.module.dangerous", Severity.CRITICAL,
                               f"config resolves {module}.{class_name} on load (arbitrary code execution)", name, loc,
                               f"{module}.{class_name}")
            elif module == "builtins" and obj.get("config") in DANGEROUS_BUILTINS:
                yield _finding("keras.module.dangerous", Severity.CRITICAL,
                               f"config resolves builtins.{obj.get('config')} on load (arbitrary code execution)",
                               name, loc, f"builtins.{obj.get('config')}")
            elif not module.startswith(KERAS_MODULE_PREFIXES) and module != "builtins":
                yield _finding("keras.module.external", Severity.HIGH,
                               f"config imports module {module!r} outside Keras when loading", name, loc,
                               f"{module}.{class_name}")
        registered = obj.get("registered_name")
        if isinstance(registered, str) and ">" in registered and not registered.startswith("keras"):
            yield _finding("keras.custom_object", Severity.MEDIUM,
                           f"custom object {registered!r} must be supplied as code to load the model", name, loc,
                           registered)
        for value in obj.values():
            if isinstance(value, str) and "enable_unsafe_deserialization" in value:
                yield _finding("keras.unsafe_deserialization", Severity.CRITICAL,
                               "config references enable_unsafe_deserialization (safe_mode bypass)", name, loc,
                               value[:120])


def _lambda(obj: dict[str, Any], name: str, loc: str) -> Iterator[Finding]:
    cfg = obj.get("config") if isinstance(obj.get("config"), dict) else {}
    function = cfg.get("function")
    ftype = cfg.get("function_type")
    layer = _layer_name(obj)
    if ftype == "lambda" or (isinstance(function, list) and function and isinstance(function[0], str)):
        code = function[0] if isinstance(function, list) and function else function
        yield _finding("keras.lambda.code", Severity.CRITICAL,
                       f"Lambda layer {layer!r} holds marshalled Python bytecode that runs when the model loads",
                       name, loc, str(code)[:120])
    elif isinstance(function, dict) and function.get("class_name") == "__lambda__":
        return  # reported by the __lambda__ object itself
    else:
        module = cfg.get("module") or (function.get("module") if isinstance(function, dict) else None)
        yield _finding("keras.lambda.function", Severity.HIGH,
                       f"Lambda layer {layer!r} calls a Python function resolved at load time", name, loc,
                       f"{module}.{function}"[:120] if module else str(function)[:120])
