"""Hugging Face folder checker: ``auto_map`` remote code, custom ``*.py`` by AST, chat templates in JSON configs.

Python files are parsed with :mod:`ast` and never imported or executed. Formats: ``python-source`` (any
``*.py``), ``hf-config`` / ``json`` (``config.json``, ``tokenizer_config.json``, ``chat_template.json`` and other
JSON objects carrying ``auto_map`` or ``chat_template``), and ``*.jinja`` chat-template files via ``scan_template``.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from itertools import islice
from typing import Any, BinaryIO

from modeldossier.artifacts.chat_template import check_template
from modeldossier.artifacts.models import Finding
from modeldossier.common import Severity

FORMATS = ("python-source", "hf-config", "json")
MAX_SOURCE_BYTES = 8 * 1024 * 1024
# ast.parse takes up to ~600 bytes of memory per source byte on dense code ("a=1;" repeated): parse at most
# 1 MiB (real modeling files are far smaller); larger files up to MAX_SOURCE_BYTES are checked by pattern only.
MAX_AST_BYTES = 1024 * 1024
MAX_JSON_BYTES = 64 * 1024 * 1024
_MAX_PER_RULE = 20

EXEC_CALLS = frozenset({"exec", "eval", "compile", "__import__", "builtins.exec", "builtins.eval",
                        "builtins.compile", "builtins.__import__", "execfile"})
SHELL_CALLS = ("os.system", "os.popen", "os.exec", "os.spawn", "os.posix_spawn", "os.fork", "subprocess.", "pty.spawn",
               "commands.getoutput", "asyncio.create_subprocess", "platform.popen")
NETWORK_MODULES = ("socket", "urllib", "urllib2", "urllib3", "requests", "httpx", "http.client", "ftplib", "smtplib",
                   "telnetlib", "paramiko", "aiohttp", "websocket", "websockets", "pycurl")
NETWORK_SEND = frozenset({"post", "put", "patch", "send", "sendall", "sendto", "connect", "urlopen", "request",
                          "upload", "sendmail", "storbinary"})
DECODE_CALLS = ("base64.b64decode", "base64.b32decode", "base64.b85decode", "base64.a85decode",
                "base64.decodebytes", "base64.urlsafe_b64decode", "zlib.decompress", "gzip.decompress",
                "bz2.decompress", "lzma.decompress", "marshal.loads", "codecs.decode", "binascii.unhexlify",
                "binascii.a2b_base64", "bytes.fromhex", "pickle.loads", "dill.loads", "cloudpickle.loads")
LOAD_CODE_CALLS = ("marshal.loads", "pickle.loads", "dill.loads", "cloudpickle.loads", "types.FunctionType",
                   "types.CodeType")
DANGEROUS_MODULES = frozenset({"ctypes", "cffi", "pty", "marshal", "dill", "cloudpickle", "runpy", "code",
                               "webbrowser", "pip"})
PURE_NETWORK_HELPERS = ("urllib.parse", "urllib.error", "http.HTTPStatus", "http.cookies", "socket.gethostname")
# environment variables that hold secrets, by name segment: HF_TOKEN, OPENAI_API_KEY, AWS_SECRET_ACCESS_KEY, DB_PASSWORD
# match; configuration such as HF_HOME, HF_HUB_OFFLINE or TOKENIZERS_PARALLELISM does not
SECRET_ENV = re.compile(r"(^|_)(TOKENS?|KEYS?|APIKEY|SECRETS?|PASSWORD|PASSWD|PASS|PASSPHRASE|CREDENTIALS?|AUTH|"
                        r"COOKIE|PRIVATE)(_|$)|^AWS_(ACCESS|SECRET|SESSION)", re.I)
SECRET_PATHS = re.compile(r"\.ssh\b|id_rsa|id_ed25519|\.aws/credentials|\.aws\b|\.netrc|\.git-credentials|"
                          r"\.docker/config|\.kube/config|/etc/passwd|/etc/shadow|\.bash_history|"
                          r"huggingface/token|\.gnupg|\.npmrc|\.pypirc|[/\\]Cookies\b|Login Data|wallet\.dat", re.I)
PERSIST_PATHS = re.compile(r"\.bashrc|\.zshrc|\.profile|authorized_keys|crontab|/etc/|site-packages|"
                           r"sitecustomize|usercustomize|\.pth\b|/usr/|/bin/|systemd|LaunchAgents|Startup", re.I)
RISKY_CALL_TEXT = re.compile(
    r"\b(?:exec|eval|compile|__import__|execfile|os\.(?:system|popen|exec\w*|spawn\w*|fork)|subprocess\.\w+|"
    r"pty\.spawn|socket\.(?:socket|create_connection)|urllib\.request\.urlopen|requests\.(?:get|post|put)|"
    r"marshal\.loads|pickle\.loads|dill\.loads|importlib\.import_module|ctypes\.\w+)\s*\("
)
SHELL_WORDS = re.compile(r"\b(curl|wget|bash|sh -c|nc |ncat|powershell|chmod \+x|rm -rf)\b", re.I)


def _finding(rule: str, sev: Severity, msg: str, name: str, loc: str | None, ev: str | None = None) -> Finding:
    return Finding(rule_id=rule, severity=sev, message=msg, file=name, location=loc, evidence=ev)


def _read(stream: BinaryIO, size: int, limit: int) -> bytes | None:
    if size > limit:
        return None
    stream.seek(0)
    return stream.read(limit + 1)


def scan(stream: BinaryIO, name: str, size: int) -> list[Finding]:
    """Dispatch on content: a JSON object -> ``scan_json``; ``*.jinja`` -> template; else Python source."""
    if name.endswith((".jinja", ".j2")):
        return scan_template(stream, name, size)
    stream.seek(0)
    head = stream.read(64).lstrip()
    if head[:1] == b"{":
        return scan_json(stream, name, size)
    return scan_python(stream, name, size)


def scan_template(stream: BinaryIO, name: str, size: int) -> list[Finding]:
    """A standalone chat-template file (``chat_template.jinja``)."""
    raw = _read(stream, size, MAX_JSON_BYTES)
    if raw is None:
        return [_finding("chat_template.too_large", Severity.HIGH, f"{size:,}-byte template not analysed", name,
                         None)]
    return check_template(raw.decode("utf-8", errors="replace"), name, "file")


# ---------------------------------------------------------------- JSON configs


def scan_json(stream: BinaryIO, name: str, size: int) -> list[Finding]:
    """Findings for a Hugging Face JSON config: ``auto_map`` entries and ``chat_template`` values."""
    raw = _read(stream, size, MAX_JSON_BYTES)
    if raw is None:
        return [_finding("hf.config.too_large", Severity.LOW, f"{size:,}-byte JSON file not analysed", name, None)]
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return [_finding("malformed.json", Severity.LOW, f"not valid JSON: {exc}"[:200], name, None)]
    except RecursionError:
        return [_finding("malformed.json", Severity.MEDIUM, "JSON nests too deeply", name, None)]
    if not isinstance(data, dict):
        return []
    findings = list(_auto_map(data.get("auto_map"), name))
    findings.extend(_custom_pipelines(data.get("custom_pipelines"), name))
    template = data.get("chat_template")
    if isinstance(template, str):
        findings.extend(check_template(template, name, "key chat_template"))
    elif isinstance(template, list):
        for i, item in enumerate(template[:50]):
            if isinstance(item, dict) and isinstance(item.get("template"), str):
                label = item.get("name", i)
                findings.extend(check_template(item["template"], name, f"key chat_template[{label}]"))
    return findings


def _auto_map(auto_map: Any, name: str) -> Iterator[Finding]:
    if auto_map is None:
        return
    if not isinstance(auto_map, dict):
        yield _finding("hf.auto_map.malformed", Severity.MEDIUM, "auto_map is not an object", name, "key auto_map")
        return
    for cls, target in list(auto_map.items())[:100]:
        refs = target if isinstance(target, list) else [target]
        for ref in refs:
            if not isinstance(ref, str):
                continue
            if "--" in ref:
                repo, _, attr = ref.partition("--")
                yield _finding("hf.auto_map.remote_repo", Severity.HIGH,
                               f"{cls} loads code from another repository {repo!r} with trust_remote_code "
                               "(not present here for review)", name, f"key auto_map.{cls}", ref)
            else:
                module = ref.rsplit(".", 1)[0]
                yield _finding("hf.auto_map.remote_code", Severity.MEDIUM,
                               f"{cls} needs trust_remote_code and runs {module}.py from this folder on load", name,
                               f"key auto_map.{cls}", ref)


def _custom_pipelines(pipelines: Any, name: str) -> Iterator[Finding]:
    """``custom_pipelines`` in config.json: each ``impl`` is a module run with trust_remote_code."""
    if not isinstance(pipelines, dict):
        return
    for task, spec in list(pipelines.items())[:100]:
        impl = spec.get("impl") if isinstance(spec, dict) else None
        if isinstance(impl, str):
            remote = "--" in impl
            yield _finding("hf.custom_pipeline.remote_code", Severity.HIGH if remote else Severity.MEDIUM,
                           f"pipeline {task!r} needs trust_remote_code and runs {impl.rsplit('.', 1)[0]}.py on load",
                           name, f"key custom_pipelines.{task}", impl)


# ---------------------------------------------------------------- Python source


def scan_python(stream: BinaryIO, name: str, size: int) -> list[Finding]:
    """Findings for one Python file, analysed by AST (never imported)."""
    raw = _read(stream, size, MAX_SOURCE_BYTES)
    if raw is None:
        return [_finding("python.too_large", Severity.MEDIUM, f"{size:,}-byte Python file not analysed", name, None)]
    if len(raw) > MAX_AST_BYTES:
        return _check_unparsed(raw.decode("utf-8", errors="replace"), name)
    return check_source(raw.decode("utf-8", errors="replace"), name)


def _check_unparsed(source: str, name: str) -> list[Finding]:
    """Pattern-only findings for a Python file too large to parse with bounded memory."""
    out = [_finding("python.too_large", Severity.MEDIUM,
                    f"{len(source):,}-character Python file not parsed (over {MAX_AST_BYTES // 2**20} MiB): "
                    "checked by pattern only", name, None)]
    for match in islice(RISKY_CALL_TEXT.finditer(source), _MAX_PER_RULE):
        call = match.group(0).rstrip("( \t")
        out.append(_finding("python.unparsed.risky", Severity.HIGH,
                            f"names {call}() in a file too large to parse (pattern match, not confirmed by AST)",
                            name, f"line {source.count(chr(10), 0, match.start()) + 1}",
                            source[max(0, match.start() - 40): match.end() + 40]))
    return out


def check_source(source: str, name: str) -> list[Finding]:
    """Findings for Python source text."""
    try:
        tree = ast.parse(source, filename=name)
    except SyntaxError as exc:
        return [_finding("malformed.python.syntax", Severity.LOW, f"Python file does not parse: {exc.msg}", name,
                         f"line {exc.lineno}")]
    except (RecursionError, MemoryError, ValueError):
        return [_finding("malformed.python.syntax", Severity.MEDIUM, "Python file too deeply nested to parse", name,
                         None)]
    visitor = _Visitor(name)
    try:
        visitor.visit(tree)
        visitor.finish()
    except RecursionError:
        visitor.findings.append(_finding("python.nesting", Severity.MEDIUM, "Python file too deeply nested", name,
                                         None))
    counts: dict[str, int] = {}
    out = []
    for f in visitor.findings:
        counts[f.rule_id] = counts.get(f.rule_id, 0) + 1
        if counts[f.rule_id] <= _MAX_PER_RULE:
            out.append(f)
    return out


_GETATTR_RISKY = frozenset({"os", "posix", "nt", "sys", "builtins", "__builtins__", "subprocess", "importlib", "ctypes",
                            "socket", "shutil", "pty", "marshal", "pickle", "runpy", "code", "webbrowser"})


def _fold(node: ast.AST) -> str | None:
    """The string a constant expression builds ('sys' + 'tem', ''.join([...]), 'metsys'[::-1]), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _fold(node.left), _fold(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice) and ast.unparse(node.slice) == "::-1":
        inner = _fold(node.value)
        return None if inner is None else inner[::-1]
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "join"
            and len(node.args) == 1 and isinstance(node.args[0], ast.List | ast.Tuple)):
        sep = _fold(node.func.value)
        parts = [_fold(e) for e in node.args[0].elts]
        return None if sep is None or None in parts else sep.join(parts)  # type: ignore[arg-type]
    return None


class _Visitor(ast.NodeVisitor):
    """Collects findings while tracking import aliases so ``import os as o; o.system`` resolves."""

    def __init__(self, name: str):
        self.name = name
        self.aliases: dict[str, str] = {}
        self.findings: list[Finding] = []
        self.secret_reads: list[tuple[ast.AST, str]] = []  # (read node, variable name)
        self.tainted: set[str] = set()  # local names assigned from a secret read
        self.leaks: set[int] = set()  # ids of secret reads whose value reaches a network call
        self.net_objects: set[str] = set()  # local names bound to sockets, sessions, connections

    def finish(self) -> None:
        """Report each secret environment read: high when its value reaches a network call, else medium."""
        for node, key in self.secret_reads:
            if id(node) in self.leaks:
                self.add("python.env.secret", Severity.HIGH,
                         f"sends credential environment variable {key!r} over the network", node, key)
            else:
                self.add("python.env.secret", Severity.MEDIUM,
                         f"reads credential environment variable {key!r}", node, key)

    def _secret_read(self, node: ast.AST) -> str | None:
        """The variable name when ``node`` reads a secret-named environment variable, else None."""
        if isinstance(node, ast.Call):
            dotted = self._dotted(node.func) or ""
            key = node.args[0] if node.args else None
            if dotted in ("os.getenv", "os.environ.get", "os.getenvb") and isinstance(key, ast.Constant):
                return key.value if isinstance(key.value, str) and SECRET_ENV.search(key.value) else None
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and \
                self._dotted(node.value) == "os.environ":
            key = node.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str) and SECRET_ENV.search(key.value):
                return key.value
        return None

    def visit_Assign(self, node: ast.Assign) -> None:
        if isinstance(node.value, ast.Call) and (self._dotted(node.value.func) or "").startswith(NETWORK_MODULES):
            for target in node.targets:
                self.net_objects.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        if any(self._secret_read(sub) for sub in ast.walk(node.value)) or any(
                isinstance(sub, ast.Name) and sub.id in self.tainted for sub in ast.walk(node.value)):
            for target in node.targets:
                self.tainted.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        self.generic_visit(node)

    def _mark_leaks(self, node: ast.Call) -> None:
        """A network call: secret reads (or names holding them) among its arguments reach the network."""
        args = [*node.args, *(k.value for k in node.keywords)]
        subs = [sub for arg in args for sub in ast.walk(arg)]
        names = {sub.id for sub in subs if isinstance(sub, ast.Name)}
        direct = {id(sub) for sub in subs if self._secret_read(sub)}
        for read, _ in self.secret_reads:
            if id(read) in direct:
                self.leaks.add(id(read))
        if names & self.tainted:
            self.leaks.update(id(read) for read, _ in self.secret_reads)

    def add(self, rule: str, sev: Severity, msg: str, node: ast.AST, evidence: str | None = None) -> None:
        self.findings.append(_finding(rule, sev, msg, self.name, f"line {getattr(node, 'lineno', 0)}",
                                      (evidence or "")[:200] or None))

    # imports
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.aliases[(alias.asname or alias.name).split(".")[0]] = alias.name if alias.asname else \
                alias.name.split(".")[0]
            self._check_import(alias.name, node)
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        for alias in node.names:
            self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}" if module else alias.name
            self._check_import(f"{module}.{alias.name}" if module else alias.name, node)
        self.generic_visit(node)

    def _check_import(self, full: str, node: ast.AST) -> None:
        root = full.split(".")[0]
        if root in DANGEROUS_MODULES:
            self.add("python.import.dangerous", Severity.MEDIUM, f"imports {full} (low-level code loading or "
                     "native calls)", node, full)
        elif (full.startswith(NETWORK_MODULES) or root in NETWORK_MODULES) and not full.startswith(
                PURE_NETWORK_HELPERS):
            self.add("python.import.network", Severity.LOW, f"imports network module {full}", node, full)

    # names
    def _dotted(self, node: ast.AST) -> str | None:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name):
            base = self.aliases.get(node.id, node.id)
            return ".".join([base, *reversed(parts)])
        if isinstance(node, ast.Call):
            inner = self._dotted(node.func)
            if inner in ("__import__", "importlib.import_module") and node.args and isinstance(
                    node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                return ".".join([node.args[0].value, *reversed(parts)])
        return None

    def _contains_call(self, node: ast.Call, prefixes: tuple[str, ...]) -> str | None:
        """The first call among ``node``'s arguments whose name starts with one of ``prefixes``."""
        inner = [sub for arg in [*node.args, *(k.value for k in node.keywords)] for sub in ast.walk(arg)]
        for sub in inner:
            if isinstance(sub, ast.Call):
                dotted = self._dotted(sub.func) or ""
                if dotted.startswith(prefixes) or (isinstance(sub.func, ast.Attribute) and sub.func.attr in (
                        "decode", "fromhex") and any(isinstance(a, ast.Constant) for a in ast.walk(sub))):
                    return dotted or ast.unparse(sub.func)
        return None

    def visit_Call(self, node: ast.Call) -> None:
        dotted = self._dotted(node.func) or ""
        short = dotted.rsplit(".", 1)[-1]
        if dotted in EXEC_CALLS:
            hidden = self._contains_call(node, DECODE_CALLS)
            if hidden:
                self.add("python.exec.obfuscated", Severity.CRITICAL,
                         f"{dotted}() runs code decoded at run time ({hidden})", node, ast.unparse(node)[:200])
            elif dotted.endswith("__import__"):
                self.add("python.import.dynamic", Severity.HIGH, "__import__() imports a module by name at run time",
                         node, ast.unparse(node)[:200])
            else:
                self.add("python.exec", Severity.HIGH, f"{dotted}() executes dynamically built code", node,
                         ast.unparse(node)[:200])
        elif dotted.startswith(SHELL_CALLS):
            text = " ".join(str(c.value) for c in ast.walk(node) if isinstance(c, ast.Constant))
            sev = Severity.CRITICAL if SHELL_WORDS.search(text) or self._contains_call(node, DECODE_CALLS) else \
                Severity.HIGH
            self.add("python.shell", sev, f"{dotted}() runs an operating-system command", node,
                     ast.unparse(node)[:200])
        elif dotted.startswith(LOAD_CODE_CALLS):
            sev = Severity.CRITICAL if self._contains_call(node, DECODE_CALLS) else Severity.HIGH
            self.add("python.load_code", sev, f"{dotted}() turns bytes into code or objects", node,
                     ast.unparse(node)[:200])
        elif dotted.startswith(NETWORK_MODULES) and not dotted.startswith(PURE_NETWORK_HELPERS):
            sev = Severity.HIGH if short in NETWORK_SEND else Severity.MEDIUM
            self.add("python.network", sev, f"{dotted}() talks to the network", node, ast.unparse(node)[:200])
            self.generic_visit(node)  # record secret reads in the arguments first
            self._mark_leaks(node)
            return
        elif (isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name)
              and node.func.value.id in self.net_objects and node.func.attr in NETWORK_SEND):
            self.generic_visit(node)
            self._mark_leaks(node)
            return
        elif dotted == "importlib.import_module" and node.args and not isinstance(node.args[0], ast.Constant):
            self.add("python.import.dynamic", Severity.HIGH, "import_module() with a computed module name", node,
                     ast.unparse(node)[:200])
        elif dotted in ("getattr", "builtins.getattr") and len(node.args) >= 2:
            self._check_getattr(node)
        elif dotted in ("os.getenv", "os.environ.get", "os.environ.copy", "os.getenvb"):
            self._check_env(node, dotted)
        elif dotted in ("open", "builtins.open", "io.open") or short in ("write_text", "write_bytes"):
            self._check_open(node, dotted)
        elif dotted in ("globals", "locals", "vars") and not node.args:
            self.add("python.introspection", Severity.LOW, f"{dotted}() exposes the module namespace", node, dotted)
        self.generic_visit(node)

    def _check_getattr(self, node: ast.Call) -> None:
        target, attr = node.args[0], node.args[1]
        target_name = self._dotted(target) or ""
        root = target_name.split(".")[0]
        is_module = root in _GETATTR_RISKY
        folded = _fold(attr)
        if folded is not None:
            if folded in ("system", "popen", "exec", "eval", "__import__", "spawn", "Popen", "check_output", "run",
                          "compile", "loads", "getoutput", "execv", "execl"):
                self.add("python.getattr.dangerous", Severity.CRITICAL,
                         f"getattr() fetches {folded!r} (hides a dangerous call)", node, ast.unparse(node)[:200])
        elif is_module:
            self.add("python.getattr.computed", Severity.HIGH,
                     f"getattr() on module {target_name} with a computed attribute name", node,
                     ast.unparse(node)[:200])

    def _check_env(self, node: ast.Call, dotted: str) -> None:
        key = node.args[0] if node.args else None
        if dotted == "os.environ.copy":
            self.add("python.env.dump", Severity.MEDIUM, "copies the whole environment (may hold credentials)", node,
                     ast.unparse(node)[:200])
        elif isinstance(key, ast.Constant) and isinstance(key.value, str) and SECRET_ENV.search(key.value):
            self.secret_reads.append((node, key.value))

    def visit_Subscript(self, node: ast.Subscript) -> None:
        key = self._secret_read(node)
        if key:
            self.secret_reads.append((node, key))
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        dotted = self._dotted(node) or ""
        if dotted in ("os.environ.items", "os.environ.values", "os.environ.keys"):
            self.add("python.env.dump", Severity.MEDIUM, "walks the whole environment (may hold credentials)", node,
                     dotted)
        elif dotted.startswith(("sys.modules", "__builtins__")) or node.attr in ("__globals__", "__subclasses__",
                                                                               "__code__", "__builtins__"):
            where = dotted or node.attr
            self.add("python.introspection", Severity.MEDIUM, f"reaches interpreter internals via {where}", node,
                     where)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and len(node.value) < 4096:
            if SECRET_PATHS.search(node.value):
                self.add("python.secret_path", Severity.HIGH, "names a credential file or secret store", node,
                         node.value)
            elif len(node.value) >= 200 and re.fullmatch(r"[A-Za-z0-9+/=\s]+", node.value):
                self.add("python.encoded_blob", Severity.MEDIUM, "holds a long base64-like blob", node,
                         node.value[:80])
        elif isinstance(node.value, str) and len(node.value) >= 4096 and re.fullmatch(r"[A-Za-z0-9+/=\s]+",
                                                                                        node.value[:4096]):
            self.add("python.encoded_blob", Severity.MEDIUM, "holds a long base64-like blob", node, node.value[:80])

    def _check_open(self, node: ast.Call, dotted: str) -> None:
        mode = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "mode"), None)
        writes = dotted.endswith(("write_text", "write_bytes")) or (
            isinstance(mode, ast.Constant) and isinstance(mode.value, str) and any(c in mode.value for c in "wax+"))
        if not writes:
            return
        target = node.args[0] if node.args else (node.func.value if isinstance(node.func, ast.Attribute) else node)
        text = " ".join(str(c.value) for c in ast.walk(target) if isinstance(c, ast.Constant))
        if PERSIST_PATHS.search(text):
            self.add("python.write.persistence", Severity.CRITICAL,
                     "writes to a shell profile, system or package path (persistence)", node, ast.unparse(node)[:200])
        elif re.search(r"^(/|~)|\.\./|expanduser|home", text + ast.unparse(target)):
            self.add("python.write.outside", Severity.HIGH, "writes a file outside the model folder", node,
                     ast.unparse(node)[:200])
