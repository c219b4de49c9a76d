"""Chat-template checker: Jinja sandbox escapes (SSTI) and hidden instructions, from the parsed AST only.

The template is parsed with jinja2's parser and walked; it is never rendered. Used for GGUF
``tokenizer.chat_template`` metadata, ``tokenizer_config.json`` ``chat_template`` and ``*.jinja`` files.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from jinja2 import nodes
from jinja2.exceptions import TemplateSyntaxError
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

from modeldossier.artifacts.models import Finding
from modeldossier.common import Severity

MAX_TEMPLATE_CHARS = 2_000_000
_DUNDER = re.compile(r"__[A-Za-z_]\w*__|_TemplateReference__context")
_DUNDER_PIECE = re.compile(r"__\w*|\w*__")
# attribute names a sandbox escape walks through (besides any dunder)
ESCAPE_ATTRS = frozenset({
    "mro", "func_globals", "f_globals", "f_locals", "f_builtins", "f_back", "gi_frame", "gi_code", "cr_frame",
    "ag_frame", "tb_frame", "im_func", "func_code", "_module", "popen", "import_module", "load_module",
    "getattribute",
})
# globals whose mere use is unusual in a chat template, and whose attributes reach Python internals
UNUSUAL_GLOBALS = frozenset({"cycler", "joiner", "lipsum"})
ESCAPE_ROOTS = frozenset({"cycler", "joiner", "lipsum", "namespace", "self", "config", "request", "range", "dict"})
FOREIGN_GLOBALS = frozenset({"self", "config", "request", "url_for", "get_flashed_messages", "g", "session"})
_ATTR_FILTERS = frozenset({"map", "selectattr", "rejectattr", "sort", "groupby", "sum", "unique", "min", "max"})
_STRING_BUILDERS = frozenset({"join", "format", "reverse", "replace", "lower", "upper", "string", "list", "first",
                              "last", "center", "title", "capitalize", "urlencode", "safe"})
_OUTPUT_ARG_FILTERS = frozenset({"replace", "join", "default", "d", "format"})

_SPECIAL_TOKENS = re.compile(r"<\|[^|>\n]{0,64}\|>|</?[A-Za-z_][\w:-]{0,40}>|\[/?[A-Z_]{2,24}\]|<</?SYS>>|<s>|</s>")
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]")
# (rule, what it injects, language, pattern). English patterns run on every literal, Chinese ones (simplified and
# traditional forms in one pattern) on literals holding Han characters. Chinese has no spaces, so no \b there.
HIDDEN_PATTERNS: tuple[tuple[str, str, str, re.Pattern[str]], ...] = (
    ("chat_template.hidden.url", "injects a URL the user never typed", "en",
     re.compile(r"\bhttps?://[^\s\"'<>]+|\bwww\.[a-z0-9-]+\.[a-z]{2,}\b", re.I)),
    ("chat_template.hidden.override", "injects an instruction to ignore earlier instructions", "en",
     re.compile(r"\b(ignore|disregard|forget|override|bypass)\b[^.\n]{0,40}\b(previous|prior|above|earlier|all|"
                r"system|safety|original)\b[^.\n]{0,40}\b(instructions?|prompts?|rules|guidelines|messages?|"
                r"polic(y|ies))\b", re.I)),
    ("chat_template.hidden.override", "injects an instruction to ignore earlier instructions", "zh",
     re.compile(r"(忽略|忽视|忽視|无视|無視|忘记|忘記|忘掉|不要理会|不要理會|不必遵守|无需遵守|無需遵守|覆盖|覆蓋|"
                r"绕过|繞過|跳过|跳過)[^。！\n]{0,12}(之前|以前|先前|此前|上述|上面|前面|所有|全部|一切|原来|原來|原有|"
                r"系统|系統|安全)[^。！\n]{0,12}(指令|指示|提示词|提示詞|提示|规则|規則|规定|規定|设定|設定|要求|"
                r"限制|准则|準則|策略|政策)")),
    ("chat_template.hidden.secrecy", "injects an instruction to hide something from the user", "en",
     re.compile(r"\b(do not|don't|never)\s+(tell|reveal|mention|disclose|inform)\b[^.\n]{0,40}\b(this|these|the "
                r"(above|following|hidden))\s+(rules?|instructions?|directives?|prompt|guidelines?)\b|"
                r"\bwithout (telling|informing|notifying) (the user|them|anyone)\b|\bsecretly\b|"
                r"\bkeep (this|these|it) (secret|hidden|confidential)\b", re.I)),
    ("chat_template.hidden.secrecy", "injects an instruction to hide something from the user", "zh",
     re.compile(r"(不要|不得|不可|不能|切勿|绝不|絕不|绝对不要|絕對不要|禁止|别|別|勿)[^。！\n]{0,6}"
                r"(告诉|告訴|透露|提及|提到|泄露|洩露|泄漏|洩漏|披露|说出|說出|提起|承认|承認)"
                r"[^。！\n]{0,12}(这些|這些|这条|這條|此|本|以上|上述|该|該)[^。！\n]{0,6}"
                r"(规则|規則|指令|指示|提示|设定|設定|要求|内容|內容)|"
                r"(秘密地|偷偷地?|暗中|悄悄地?)|"
                r"(对|對|向)(用户|用戶|使用者|任何人)(保密|隐瞒|隱瞞)|"
                r"(不要|不得|切勿|别|別)(让|讓)(用户|用戶|使用者)(知道|发现|發現|察觉|察覺)")),
    ("chat_template.hidden.exfiltration", "injects an instruction to send conversation data somewhere", "en",
     re.compile(r"\b(send|post|upload|forward|exfiltrate|transmit|leak|email)\b[^.\n]{0,60}\b(conversation|"
                r"chat history|messages|credentials?|api keys?|tokens?|passwords?|secrets?|personal data)\b", re.I)),
    ("chat_template.hidden.exfiltration", "injects an instruction to send conversation data somewhere", "zh",
     re.compile(r"(发送|發送|发给|發給|发到|發到|寄给|寄給|上传|上傳|转发|轉發|传送|傳送|传给|傳給|提交给|提交給|"
                r"泄露|洩露|外发|外發|回传|回傳)[^。！\n]{0,30}(对话|對話|聊天记录|聊天記錄|会话|會話|用户消息|"
                r"用戶消息|用户输入|用戶輸入|使用者輸入|凭证|憑證|凭据|憑據|密码|密碼|密钥|密鑰|令牌|口令|"
                r"个人信息|個人資訊|个人数据|個人資料|身份证|身份證|银行卡|銀行卡|卡号|卡號)|"
                r"(把|将|將)[^。！\n]{0,20}(对话|對話|聊天记录|聊天記錄|会话|會話|用户消息|用戶消息|用户输入|用戶輸入|"
                r"使用者輸入|凭证|憑證|凭据|憑據|密码|密碼|密钥|密鑰|令牌|口令|个人信息|個人資訊|个人数据|個人資料|"
                r"身份证|身份證|银行卡|銀行卡|卡号|卡號)[^。！\n]{0,20}(发送|發送|发给|發給|发到|發到|寄给|寄給|上传|"
                r"上傳|转发|轉發|传送|傳送|传给|傳給|提交|外发|外發|回传|回傳)")),
    ("chat_template.hidden.command", "injects a shell command", "en",
     re.compile(r"\b(curl|wget)\s+\S|\brm\s+-rf\b|\bpowershell\b|\bbash\s+-c\b|/bin/sh\b|\bnc\s+-e\b|"
                r"\bbase64\s+-d\b", re.I)),
    ("chat_template.hidden.tool_call", "injects a concrete tool call the user never asked for", "en",
     re.compile(r"\"name\"\s*:\s*\"[A-Za-z_][\w.-]*\"\s*,\s*\"(arguments|parameters)\"")),
    ("chat_template.hidden.role_injection", "injects a role-labelled instruction into the conversation", "en",
     re.compile(r"(^|\n|\s)(system|admin|developer)\s*(:|override\b|note\b)\s*[A-Za-z][^\n]*?(\s+\S+){5,}",
                re.I)),
    ("chat_template.hidden.encoded", "injects an encoded blob (base64-like) into the prompt", "en",
     re.compile(r"[A-Za-z0-9+/]{48,}={0,2}")),
)
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# a URL that carries data out: a markdown image/link (rendered and fetched by chat UIs) or a query left open
# for the conversation to be appended
_URL_EXFIL = re.compile(r"!\[[^\]]*\]\(\s*https?://|https?://\S*[?&][\w.-]*=\s*$|https?://\S*\{", re.I)
_PROSE_INFO_CHARS = 400
_EXAMPLE = re.compile(r"\b(format|example|e\.g\.|for instance|like this|as follows|schema)\b", re.I)
# what makes a role-labelled literal an injection rather than a default system prompt
_PRIVILEGED = re.compile(r"\b(grant|administrator|admin|override|ignore|bypass|unrestricted|jailbreak|disable|"
                         r"developer mode|password|secret|without (any )?(checks|restrictions|limits|filters)|"
                         r"no (restrictions|limits|filters))\b", re.I)


@dataclass
class _Literal:
    text: str
    line: int
    in_tools: bool = False  # inside an `if tools` branch: format instructions for tool use live there


@dataclass
class _Walk:
    """What one pass over the AST collected."""

    findings: list[tuple[str, Severity, str, int, str]] = field(default_factory=list)
    literals: list[_Literal] = field(default_factory=list)
    tools_depth: int = 0

    def add(self, rule: str, sev: Severity, msg: str, line: int, evidence: str) -> None:
        self.findings.append((rule, sev, msg, line, evidence[:200]))


def check_template(text: str, name: str, location: str) -> list[Finding]:
    """Findings for one Jinja chat template; ``location`` says where it came from (e.g. a metadata key)."""

    def finding(rule: str, sev: Severity, msg: str, line: int | None, evidence: str | None) -> Finding:
        where = f"{location}, line {line}" if line else location
        return Finding(rule_id=rule, severity=sev, message=msg, file=name, location=where, evidence=evidence)

    if not isinstance(text, str):
        return [finding("malformed.chat_template", Severity.MEDIUM, "chat template is not a string", None,
                        type(text).__name__)]
    out: list[Finding] = []
    for match in list(_INVISIBLE.finditer(text))[:5]:
        out.append(finding("chat_template.hidden.invisible_unicode", Severity.HIGH,
                           "template holds invisible or bidirectional Unicode that can hide text",
                           text.count("\n", 0, match.start()) + 1, f"U+{ord(match.group()):04X}"))
    if len(text) > MAX_TEMPLATE_CHARS:
        out.append(finding("chat_template.too_large", Severity.HIGH,
                           f"template is {len(text):,} characters (real ones are kilobytes); not parsed (limit "
                           f"{MAX_TEMPLATE_CHARS:,}), so escapes or instructions padded into it go unchecked", None,
                           None))
        return out
    try:
        tree = _environment().parse(text)
    except TemplateSyntaxError as exc:
        out.append(finding("malformed.chat_template", Severity.MEDIUM, f"template does not parse: {exc.message}",
                           exc.lineno, None))
        return out
    except (RecursionError, MemoryError, ValueError, TypeError) as exc:
        out.append(finding("malformed.chat_template", Severity.HIGH,
                           f"template breaks the Jinja parser ({type(exc).__name__})", None, None))
        return out
    walk = _Walk()
    try:
        _visit(tree, walk, collect=False)
    except RecursionError:
        out.append(finding("chat_template.nesting", Severity.HIGH, "template nests too deeply to analyse", None,
                           None))
    out.extend(finding(rule, sev, msg, line, ev) for rule, sev, msg, line, ev in walk.findings)
    out.extend(finding(*item) for item in _hidden(walk.literals))
    return _dedupe(out)


class _GenerationTag(Extension):
    """Parses Hugging Face's ``{% generation %}...{% endgeneration %}`` block (it marks assistant tokens)."""

    tags = {"generation"}

    def parse(self, parser):  # type: ignore[no-untyped-def]
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return nodes.Scope(body).set_lineno(lineno)


def _environment() -> ImmutableSandboxedEnvironment:
    """The parser Hugging Face uses for chat templates: sandboxed, loop controls, the generation block."""
    return ImmutableSandboxedEnvironment(extensions=[loopcontrols, _GenerationTag])


def _dedupe(found: list[Finding]) -> list[Finding]:
    seen, unique = set(), []
    for f in found:
        key = (f.rule_id, f.location, f.evidence)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def _children(node: nodes.Node) -> Iterator[nodes.Node]:
    return node.iter_child_nodes()


def _fold(node: nodes.Node) -> str | None:
    """The string a constant string expression builds, or None when it is not constant."""
    if isinstance(node, nodes.Const) and isinstance(node.value, str):
        return node.value
    if isinstance(node, nodes.Concat):
        parts = [_fold(n) for n in node.nodes]
        return None if None in parts else "".join(parts)  # type: ignore[arg-type]
    if isinstance(node, nodes.Add):
        left, right = _fold(node.left), _fold(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, nodes.Filter) and node.node is not None:
        inner = _fold(node.node) if not isinstance(node.node, nodes.List) else None
        if node.name == "join" and isinstance(node.node, nodes.List):
            items = [_fold(n) for n in node.node.items]
            sep = _fold(node.args[0]) if node.args else ""
            return None if None in items or sep is None else sep.join(items)  # type: ignore[arg-type]
        if inner is not None and node.name == "reverse":
            return inner[::-1]
        if inner is not None and node.name in ("lower", "upper"):
            return getattr(inner, node.name)()
    return None


def _has_string_building(node: nodes.Node) -> bool:
    if isinstance(node, nodes.Concat):  # `~` always builds a string
        return True
    if isinstance(node, nodes.Add | nodes.Mod | nodes.Mul):
        return any(isinstance(n, nodes.Const) and isinstance(n.value, str) for n in node.find_all(nodes.Const))
    if isinstance(node, nodes.Filter) and node.name in _STRING_BUILDERS:
        return True
    return isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr) and node.node.attr in (
        "format", "join", "replace")


def _check_name(attr: str, node: nodes.Node, walk: _Walk, how: str) -> None:
    if _DUNDER.fullmatch(attr) or attr in ESCAPE_ATTRS:
        walk.add("chat_template.ssti.dunder_access", Severity.CRITICAL,
                 f"{how} reaches Python internals ({attr!r}): Jinja sandbox escape", node.lineno, attr)


def _visit(node: nodes.Node, walk: _Walk, collect: bool) -> None:
    """Walk the AST; ``collect`` is True where string constants become template output."""
    line = node.lineno
    if isinstance(node, nodes.TemplateData):
        walk.literals.append(_Literal(node.data, line, walk.tools_depth > 0))
        return
    if isinstance(node, nodes.Const):
        if isinstance(node.value, str):
            if _DUNDER.search(node.value):
                walk.add("chat_template.ssti.dunder_string", Severity.CRITICAL,
                         "string constant names a Python dunder attribute (sandbox escape building block)", line,
                         node.value)
            elif _DUNDER_PIECE.fullmatch(node.value) or "%c" in node.value:
                walk.add("chat_template.ssti.dunder_fragment", Severity.HIGH,
                         "string constant is a piece of a dunder name ('__cla' + 'ss__' obfuscation)", line,
                         node.value)
            if collect:
                walk.literals.append(_Literal(node.value, line, walk.tools_depth > 0))
        return
    if isinstance(node, nodes.Output):
        for child in node.nodes:
            _visit(child, walk, collect=True)
        return
    if isinstance(node, nodes.Import | nodes.FromImport | nodes.Include | nodes.Extends):
        kind = type(node).__name__.lower()
        walk.add("chat_template.include", Severity.HIGH,
                 f"template loads another template ({kind}): chat templates must be self-contained", line, kind)
    elif isinstance(node, nodes.Name):
        if node.name in FOREIGN_GLOBALS and node.ctx == "load":
            # `self` is Jinja's own template reference (its escape needs a dunder, reported on its own)
            sev = Severity.MEDIUM if node.name == "self" else Severity.HIGH
            walk.add("chat_template.ssti.foreign_global", sev,
                     f"template uses {node.name!r}, a name only SSTI payloads use in a chat template", line,
                     node.name)
        elif node.name in UNUSUAL_GLOBALS and node.ctx == "load":
            walk.add("chat_template.ssti.unusual_global", Severity.MEDIUM,
                     f"template uses the Jinja global {node.name!r}, unusual in chat templates and a common SSTI "
                     "entry point", line, node.name)
    elif isinstance(node, nodes.Getattr):
        _check_name(node.attr, node, walk, "attribute access")
        if isinstance(node.node, nodes.Name) and node.node.name in ESCAPE_ROOTS:
            walk.add("chat_template.ssti.global_attribute", Severity.HIGH,
                     f"attribute walk on the Jinja global {node.node.name!r} (SSTI gadget)", line,
                     f"{node.node.name}.{node.attr}")
    elif isinstance(node, nodes.Getitem):
        _check_subscript(node, walk)
    elif isinstance(node, nodes.Filter | nodes.Test):
        _check_filter(node, walk)
    if isinstance(node, nodes.Concat | nodes.Add | nodes.Filter):
        folded = _fold(node)
        if folded is not None and _DUNDER.search(folded) and not (
                isinstance(node, nodes.Filter) and isinstance(node.node, nodes.Const)):
            walk.add("chat_template.ssti.dunder_string", Severity.CRITICAL,
                     "string expression builds a Python dunder name (sandbox escape building block)", line, folded)
    _visit_children(node, walk, collect)


def _check_subscript(node: nodes.Getitem, walk: _Walk) -> None:
    folded = _fold(node.arg)
    if folded is not None:
        _check_name(folded, node, walk, "subscript")
        if _has_string_building(node.arg) and not (_DUNDER.fullmatch(folded) or folded in ESCAPE_ATTRS):
            walk.add("chat_template.ssti.computed_attribute", Severity.HIGH,
                     "subscript key is built from string pieces (obfuscated attribute access)", node.lineno, folded)
    elif _has_string_building(node.arg):
        walk.add("chat_template.ssti.computed_attribute", Severity.HIGH,
                 "subscript key is computed from strings at render time (obfuscated attribute access)",
                 node.lineno, type(node.arg).__name__)
    if isinstance(node.node, nodes.Name) and node.node.name in ESCAPE_ROOTS and folded is not None:
        walk.add("chat_template.ssti.global_attribute", Severity.HIGH,
                 f"subscript on the Jinja global {node.node.name!r} (SSTI gadget)", node.lineno,
                 f"{node.node.name}[{folded!r}]")


def _check_filter(node: nodes.Filter | nodes.Test, walk: _Walk) -> None:
    if isinstance(node, nodes.Filter) and node.name == "attr":
        arg = node.args[0] if node.args else None
        folded = _fold(arg) if arg is not None else None
        if folded is None:
            walk.add("chat_template.ssti.attr_filter", Severity.CRITICAL,
                     "|attr() with a computed name (classic sandbox-escape obfuscation)", node.lineno, "attr")
        elif _DUNDER.fullmatch(folded) or folded in ESCAPE_ATTRS:
            _check_name(folded, node, walk, "|attr() filter")
        else:
            walk.add("chat_template.ssti.attr_filter", Severity.MEDIUM,
                     "|attr() filter in a chat template (unusual; used to dodge attribute checks)", node.lineno,
                     folded)
    if node.name in _ATTR_FILTERS:
        for value in [*node.args, *(kw.value for kw in node.kwargs)]:
            folded = _fold(value)
            if folded is not None:
                _check_name(folded, node, walk, f"|{node.name}() attribute")


def _visit_children(node: nodes.Node, walk: _Walk, collect: bool) -> None:
    if isinstance(node, nodes.Assign | nodes.AssignBlock):
        for child in _children(node):
            _visit(child, walk, collect=True)
    elif isinstance(node, nodes.Getitem):
        _visit(node.node, walk, collect)
        _visit(node.arg, walk, collect=False)
    elif isinstance(node, nodes.Compare | nodes.Test | nodes.Call | nodes.Getattr):
        for child in _children(node):
            _visit(child, walk, collect=collect and isinstance(node, nodes.Getattr))
    elif isinstance(node, nodes.Filter):
        if node.node is not None:
            _visit(node.node, walk, collect)
        keep = collect and node.name in _OUTPUT_ARG_FILTERS
        for child in [*node.args, *node.kwargs]:
            _visit(child, walk, keep)
    elif isinstance(node, nodes.If | nodes.CondExpr):
        _visit(node.test, walk, collect=False)
        about_tools = _mentions_tools(node.test)
        walk.tools_depth += about_tools
        for child in _children(node):
            if child is not node.test:
                _visit(child, walk, collect)
        walk.tools_depth -= about_tools
        if isinstance(node, nodes.If):
            _check_trigger(node, walk)
    else:
        for child in _children(node):
            _visit(child, walk, collect)


def _prose(text: str) -> str:
    """Literal text without chat special tokens and surrounding whitespace."""
    return _SPECIAL_TOKENS.sub(" ", text).strip()


def _mentions_tools(test: nodes.Node) -> bool:
    names = [test, *test.find_all(nodes.Name | nodes.Getattr | nodes.Const)]
    for n in names:
        label = n.name if isinstance(n, nodes.Name) else n.attr if isinstance(n, nodes.Getattr) else (
            n.value if isinstance(n, nodes.Const) and isinstance(n.value, str) else "")
        if "tool" in label or "function" in label:
            return True
    return False


def _is_content(node: nodes.Node) -> bool:
    """An expression that reads a message's text (message.content, m['content'], content)."""
    if isinstance(node, nodes.Filter) and node.node is not None:
        return _is_content(node.node)
    if isinstance(node, nodes.Name):
        return "content" in node.name or node.name in ("text", "query", "prompt")
    if isinstance(node, nodes.Getattr):
        return node.attr in ("content", "text")
    if isinstance(node, nodes.Getitem):
        return isinstance(node.arg, nodes.Const) and node.arg.value in ("content", "text")
    return False


_IDEOGRAPHS = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")


def _is_keyword(value: str) -> bool:
    """A trigger worth the name: three letters in a row, or two CJK characters (付款, 台湾, 六四 are words)."""
    return bool(re.search(r"[^\W\d_]{3}", value)) or len(_IDEOGRAPHS.findall(value)) >= 2


def _word_count(text: str) -> int:
    """Words in mixed text: runs of letters outside CJK, plus one word per two CJK characters."""
    cjk = len(_IDEOGRAPHS.findall(text))
    return len(re.findall(r"[^\W\d_]{2,}", _IDEOGRAPHS.sub(" ", text))) + cjk // 2


def _check_trigger(node: nodes.If, walk: _Walk) -> None:
    """`if 'word' in message.content` whose branch emits instructions: a trigger-phrase backdoor."""
    candidates = [node.test, *node.test.find_all(nodes.Compare)]
    consts = [c.expr.value for c in candidates
              if isinstance(c, nodes.Compare) and isinstance(c.expr, nodes.Const) and isinstance(c.expr.value, str)
              and not _SPECIAL_TOKENS.fullmatch(c.expr.value.strip()) and _is_keyword(c.expr.value)
              and any(op.op == "in" and _is_content(op.expr) for op in c.ops)]  # `not in` = default when absent
    if not consts:
        return
    sub = _Walk()
    for child in node.body:
        _visit(child, sub, collect=False)
    body_text = " ".join(_prose(lit.text) for lit in sub.literals)
    if _word_count(body_text) >= 6:  # six real words, not just brackets and tokens
        walk.add("chat_template.hidden.trigger", Severity.HIGH,
                 "template injects instructions only when the conversation contains a trigger string",
                 node.lineno, f"trigger={consts[0]!r}; injects {body_text.strip()[:120]!r}")


def _url_finding(text: str, url: str, line: int) -> tuple[str, Severity, str, int, str]:
    """A URL in template text: high when built to carry data out, medium otherwise (vendor links occur)."""
    sends = any(rule.endswith("exfiltration") and pattern.search(text) for rule, _, _, pattern in HIDDEN_PATTERNS)
    if sends or _URL_EXFIL.search(text):
        return ("chat_template.hidden.url_exfil", Severity.HIGH,
                "template injects a URL built to carry data out (markdown image/link, an open query parameter "
                "that the conversation is appended to, or an instruction to send data there)", line, text.strip()[:200])
    return ("chat_template.hidden.url", Severity.MEDIUM,
            "template injects a URL the user never typed (review: a link in a default system prompt can steer "
            "answers or, rendered as an image, leak the chat)", line, url.strip()[:200])


def _hidden(literals: list[_Literal]) -> Iterator[tuple[str, Severity, str, int, str]]:
    """Hidden-instruction findings over the literal text the template outputs."""
    prose_total = 0
    first_prose: _Literal | None = None
    for lit in literals:
        prose = _prose(lit.text)
        if not prose:
            continue
        prose_total += len(prose)
        first_prose = first_prose or _Literal(prose, lit.line)
        has_han = bool(_HAN.search(prose))
        for rule, what, lang, pattern in HIDDEN_PATTERNS:
            if lang == "zh" and not has_han:
                continue
            if rule.endswith("tool_call") and (lit.in_tools or _EXAMPLE.search(prose)):
                continue  # a format example inside tool instructions, not an injected call
            match = pattern.search(prose)
            if match and rule.endswith("role_injection") and not _PRIVILEGED.search(match.group(0)):
                continue  # a default system prompt ("SYSTEM: You are a helpful assistant ...") is not an injection
            if match and rule.endswith(".url"):
                yield _url_finding(lit.text, match.group(0), lit.line)
            elif match:
                label = f" ({lang})" if lang != "en" else ""
                yield rule, Severity.HIGH, f"template {what}{label}", lit.line, match.group(0).strip()[:200]
    if prose_total > _PROSE_INFO_CHARS and first_prose is not None:
        yield ("chat_template.literal_text", Severity.INFO,
               f"template adds {prose_total:,} characters of its own text to every prompt (review it)",
               first_prose.line, first_prose.text[:200])
