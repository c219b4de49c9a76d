"""Pull code out of a model's answer: fenced blocks, language guess, refusal detection, parse check.

Nothing here runs or imports the code: Python is checked with ``ast.parse`` only.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Literal

Outcome = Literal["refused", "no_code", "unparseable", "stub", "scanned", "not_analyzed", "error"]
LANGUAGES = ("python", "javascript")
EXTENSIONS = {"python": ".py", "javascript": ".js"}

MAX_RESPONSE_CHARS = 200_000
MAX_CODE_CHARS = 100_000

_FENCE = re.compile(r"^([ \t]*)(```+|~~~+)[ \t]*([\w+#.-]*)[^\n]*\n(.*?)(^[ \t]*\2[ \t]*$|\Z)", re.M | re.S)
TRUNCATED_FINISH = frozenset({"length", "max_tokens", "max_output_tokens"})
MAX_SALVAGE_TRIES = 60
_TAGS = {
    "python": "python", "py": "python", "python3": "python", "py3": "python", "flask": "python",
    "django": "python",
    "javascript": "javascript", "js": "javascript", "node": "javascript", "nodejs": "javascript",
    "jsx": "javascript", "mjs": "javascript", "cjs": "javascript", "typescript": "javascript",
    "ts": "javascript",
}
_PROGRAMMING_TAGS = frozenset({
    "go", "golang", "java", "c", "cpp", "c++", "rust", "rs", "ruby", "rb", "php", "csharp", "cs", "c#", "kotlin",
    "swift", "scala", "perl", "lua", "dart", "elixir", "haskell",
})
_OTHER_TAGS = _PROGRAMMING_TAGS | frozenset({
    "bash", "sh", "shell", "console", "zsh", "text", "txt", "json", "yaml", "yml", "ini", "toml", "html",
    "xml", "sql", "css", "dockerfile", "plaintext", "env", "output", "csv", "markdown", "md", "http",
})
_PY_HINTS = re.compile(
    r"^\s*(def \w+\(|class \w+[(:]|import \w+|from [\w.]+ import |@\w+(\.\w+)*(\(|$)|if __name__ ==|"
    r"\w+ = \w+\(|return\b|with \w+)",
    re.M,
)
# a Python-style block header ("if x:", "function f(a):") followed by an indented line
_PY_BLOCK = re.compile(
    r"^[ \t]*(?:def|class|if|elif|else|for|while|try|except|finally|with|function|async def)\b[^\n{};]*:[ \t]*"
    r"(?:#[^\n]*)?\n[ \t]+\S", re.M)
_JS_STRUCTURE = re.compile(r"[{};]|=>")
_JS_HINTS = re.compile(
    r"(\brequire\(['\"]|^\s*import .* from ['\"]|\bconst \w+ = |\blet \w+ = |\bfunction \w*\s*\(|=>\s*\{|"
    r"module\.exports|\bapp\.(get|post|use|listen)\(|console\.log\()",
    re.M,
)

# Refusal phrases (en + zh). Measured on labelled answers in tests/codesec/data/refusals.yaml; see
# docs/validation-codesec.md. Only used when no code came back: an answer with code is never "refused".
_REFUSAL = re.compile(
    r"(\bI(?:'m| am)? (?:sorry|afraid)\b.{0,80}\b(?:can(?:no|')t|cannot|unable|won'?t|not able)\b"
    r"|\bI (?:can(?:no|')t|cannot|won'?t|will not|must decline|am unable to|'m unable to|am not able to|"
    r"'m not able to|do not feel comfortable|don'?t feel comfortable|refuse)\b"
    r".{0,60}\b(?:help|assist|provide|write|create|support|comply|fulfil+|do (?:that|this)|build|code|"
    r"generate|contribute|participate|engage)"
    r"|\bI(?:'m| am) not (?:able|going|comfortable|willing)\b|\bI(?:'m| am) unable to\b"
    r"|\b(?:can(?:no|')t|cannot|won'?t) (?:help|assist) with (?:that|this)\b"
    r"|\bI must (?:decline|refuse)\b|\bdecline (?:to|this) (?:request|help|assist)"
    r"|\bagainst (?:my|our) (?:guidelines|policies|policy|principles)\b"
    r"|\bnot (?:something|a request) I can (?:help|assist)\b"
    r"|抱歉[，,]?\s*(?:我)?(?:无法|不能|不可以)|对不起[，,]?\s*(?:我)?(?:无法|不能)"
    r"|我(?:无法|不能|不会|拒绝)(?:为|帮|协助|提供|满足|回答|参与|编写|完成)"
    r"|无法(?:协助|提供|满足|帮助)(?:您|你)?(?:的)?(?:这个|此|该)?(?:请求|要求)?"
    r"|(?:违反|不符合)(?:相关)?(?:法律|法规|政策|规定)|(?:暂时)?无法回答|换个话题"
    r")",
    re.I | re.S,
)


@dataclass(frozen=True)
class CodeBlock:
    """One piece of code found in an answer."""

    language: str | None
    code: str
    fenced: bool
    tag: str = ""
    closed: bool = True


@dataclass
class Extraction:
    """What an answer holds, before any analyzer ran."""

    blocks: list[CodeBlock] = field(default_factory=list)
    language: str | None = None
    code: str = ""
    refusal: bool = False
    parse_error: str | None = None
    note: str | None = None
    other_languages: tuple[str, ...] = ()
    finish_reason: str | None = None
    truncated: bool = False
    stub: bool = False

    @property
    def has_code(self) -> bool:
        """True when some code in a language we analyse was found."""
        return bool(self.code.strip())


def looks_like_refusal(text: str) -> bool:
    """True when ``text`` reads as a refusal (phrase match, en + zh; accuracy measured in the docs)."""
    return bool(_REFUSAL.search(text[:4000]))


def guess_language(code: str, tag: str = "") -> str | None:
    """'python', 'javascript', or None: from the fence tag when it names one, else from the code itself."""
    tag = tag.lower().strip()
    if tag in _TAGS:
        return _TAGS[tag]
    if tag in _OTHER_TAGS:
        return None
    py = len(_PY_HINTS.findall(code))
    js = len(_JS_HINTS.findall(code))
    if not _JS_STRUCTURE.search(code) and _PY_BLOCK.search(code):
        return "python"  # indentation blocks, no braces or semicolons: Python (or pseudo-code), never JavaScript
    if ";" in code and re.search(r";\s*$", code, re.M):
        js += 1
    if py == 0 and js == 0:
        return None
    return "python" if py >= js else "javascript"


def code_blocks(text: str) -> list[CodeBlock]:
    """Fenced code blocks (``` or ~~~, an unclosed last fence runs to the end) in the order they appear."""
    blocks = []
    for match in _FENCE.finditer(normalize_newlines(text)):
        indent, tag, body = match.group(1), match.group(3), match.group(4)
        if indent:  # a fence inside a list item: its body carries the item's indentation
            body = "".join(line[len(indent):] if line.startswith(indent) else line.lstrip(" \t")
                           for line in body.splitlines(keepends=True))
        blocks.append(CodeBlock(language=guess_language(body, tag), code=body, fenced=True, tag=tag,
                                closed=bool(match.group(5))))
    return blocks


def normalize_newlines(text: str) -> str:
    """CRLF and lone CR become LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


_CODE_LINE = re.compile(
    r"^\s*(def |class |import |from \S+ import|return\b|const |let |var |function\b|if\b|for\b|while\b|try\b|"
    r"except\b|with |async |await |@\w|#|//|/\*|\*|[}\])]|app\.|module\.exports|export |else\b|elif\b)"
    r"|[:{};,(\[]\s*$|^\s*[\w.\[\]'\"]+\s*[-+*/]?=\s*\S"
)


# a sentence: starts with a capital letter, words and spaces, ends with . : ! or ?, no code punctuation
_PROSE_LINE = re.compile(r"^\s*[A-Z][A-Za-z'’,\- ]*\s[A-Za-z'’,\- ]*[.:!?]\s*$")


def _code_runs(lines: list[str]) -> list[tuple[int, int]]:
    """(start, end) of each run of code-looking lines; blank and indented lines continue a run."""
    runs = []
    start = None
    for i, line in enumerate(lines):
        is_code = bool(_CODE_LINE.search(line)) or (start is not None and (not line.strip() or line[:1] in " \t"))
        if is_code and start is None:
            start = i
        elif not is_code and start is not None:
            runs.append((start, i))
            start = None
    if start is not None:
        runs.append((start, len(lines)))
    return runs


def _trim_to_parse(lines: list[str], max_trim: int = 3) -> str | None:
    """The longest slice of ``lines`` (dropping up to ``max_trim`` lines at either end) that parses as Python."""
    for total in range(2 * max_trim + 1):
        for head in range(min(total, max_trim) + 1):
            tail = total - head
            if tail > max_trim:
                continue
            part = lines[head:len(lines) - tail]
            code = "\n".join(part).strip("\n")
            if sum(1 for line in part if line.strip()) >= 2 and parse_error("python", code) is None:
                return code + "\n"
    return None


def _bare_code(text: str) -> CodeBlock | None:
    """Code without fences ("Only return the code"), possibly with prose before or after it: the longest run of
    code-looking lines; Python must parse once up to three prose lines are dropped at either end."""
    lines = text.splitlines()
    if sum(1 for line in lines if line.strip()) < 2:
        return None
    best: CodeBlock | None = None
    for start, end in _code_runs(lines):
        run = lines[start:end]
        while run and (not run[-1].strip() or _PROSE_LINE.match(run[-1])):
            run.pop()
        while run and (not run[0].strip() or _PROSE_LINE.match(run[0])):
            run.pop(0)
        if sum(1 for line in run if _CODE_LINE.search(line)) < 2:
            continue
        code = "\n".join(run) + "\n"
        language = guess_language(code)
        if language == "python":
            trimmed = _trim_to_parse(run)
            if trimmed is None:
                continue
            code = trimmed
        elif language is None:
            continue
        if best is None or len(code) > len(best.code):
            best = CodeBlock(language=language, code=code, fenced=False)
    return best


def parse_error(language: str, code: str) -> str | None:
    """Why ``code`` does not parse (Python only; other languages are left to Semgrep), else None."""
    if language != "python":
        return None
    try:
        ast.parse(code)
    except SyntaxError as exc:
        return f"SyntaxError: {exc.msg} (line {exc.lineno})"
    except (ValueError, RecursionError, MemoryError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def is_stub(code: str) -> bool:
    """True when Python ``code`` defines functions and every one of them is a stub (``...``, ``pass``, a docstring
    or ``raise NotImplementedError``): an outline, not an implementation."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    if not functions or not all(all(_stub_statement(s) for s in f.body) for f in functions):
        return False
    return all(_outline_statement(node) for node in tree.body)


def _outline_statement(node: ast.stmt) -> bool:
    """Module-level statements an outline may hold besides stubs: imports, definitions, assignments, docstrings
    and a ``__main__`` guard. Any other top-level code is an implementation, not a stub."""
    if isinstance(node, ast.Import | ast.ImportFrom | ast.FunctionDef | ast.AsyncFunctionDef | ast.Assign
                  | ast.AnnAssign | ast.Pass):
        return True
    if isinstance(node, ast.ClassDef):
        return all(_outline_statement(n) for n in node.body)
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return True
    return isinstance(node, ast.If) and "__name__" in ast.dump(node.test)


def _stub_statement(node: ast.stmt) -> bool:
    if isinstance(node, ast.Pass):
        return True
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return node.value.value is Ellipsis or isinstance(node.value.value, str)
    if isinstance(node, ast.Raise) and node.exc is not None:
        exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"
    return False


def _salvage(code: str) -> str | None:
    """The longest prefix of cut-off Python that parses, or None. Tries cuts before top-level lines first (the
    usual place a cut-off answer can be closed), then the last few lines; at most MAX_SALVAGE_TRIES parses."""
    lines = code.rstrip("\n").splitlines()
    top = [i for i in range(len(lines) - 1, 0, -1) if lines[i][:1] not in ("", " ", "\t", ")", "]", "}")]
    tail = list(range(len(lines) - 1, max(0, len(lines) - 8), -1))
    tried = set()
    for end in sorted({*top[:MAX_SALVAGE_TRIES], *tail}, reverse=True)[:MAX_SALVAGE_TRIES]:
        if end in tried:
            continue
        tried.add(end)
        part = "\n".join(lines[:end]).rstrip()
        if part and parse_error("python", part) is None:
            return part + "\n"
    return None


def _join_python(chosen: list[CodeBlock]) -> tuple[list[str], int]:
    """Python blocks as parseable units: a block that parses only together with its neighbour (one function
    split over two blocks) is joined to it. Returns (units, blocks left out because they never parse)."""
    units: list[str] = []
    pending: list[str] = []
    for block in chosen:
        code = block.code.rstrip()
        if pending:
            joined = "\n".join([*pending, code])
            if parse_error("python", joined) is None:
                units.append(joined)
                pending = []
                continue
        if parse_error("python", code) is None:
            units.append(code)
            pending = []
            continue
        if units and parse_error("python", units[-1] + "\n" + code) is None:
            units[-1] = units[-1] + "\n" + code
            continue
        pending.append(code)
    skipped = len(chosen) - sum(1 for b in chosen if any(b.code.rstrip() in u for u in units))
    return units, skipped


def extract(text: str | None, expected_language: str | None = None, finish_reason: str | None = None
            ) -> Extraction:
    """Find the code of ``text`` for one task: blocks in the expected language (else the main language found),
    joined in order; the refusal flag; a Python parse check (blocks that parse only together are joined, a
    cut-off answer keeps its longest parseable prefix); whether the code is only stubs."""
    if not text or not text.strip():
        return Extraction(note="empty answer", finish_reason=finish_reason)
    text = normalize_newlines(text[:MAX_RESPONSE_CHARS])
    # reasoning models sometimes leak <think> blocks into the content: drop them
    text = re.sub(r"<think>.*?</think>", "", text, flags=re.S)
    blocks = code_blocks(text)
    if not blocks:
        bare = _bare_code(text)
        blocks = [bare] if bare else []
    ours = [b for b in blocks if b.language in LANGUAGES]
    cut = (finish_reason or "").lower() in TRUNCATED_FINISH
    result = Extraction(blocks=blocks, refusal=looks_like_refusal(text), finish_reason=finish_reason,
                        truncated=cut or any(not b.closed for b in blocks))
    if not ours:
        if blocks:
            tags = sorted({b.tag or "untagged" for b in blocks})
            result.note = f"code only in languages we do not analyse ({', '.join(tags)})"
            result.other_languages = tuple(t for t in tags if t.lower() in _PROGRAMMING_TAGS)
        return result
    language = expected_language if any(b.language == expected_language for b in ours) else ours[0].language
    chosen = [b for b in ours if b.language == language]
    result.language = language
    if language != "python":
        result.code = "\n\n".join(b.code.rstrip() for b in chosen)[:MAX_CODE_CHARS] + "\n"
        return result
    units, skipped = _join_python(chosen)
    if result.truncated and (skipped or not units):
        # the last block was cut off: keep what parses of it
        tail = chosen[-1].code
        salvaged = _salvage(tail) if parse_error("python", tail) else None
        if salvaged is not None and salvaged.strip() not in "\n".join(units):
            units.append(salvaged.rstrip())
            skipped -= 1
            result.note = "answer cut off: kept the part of the last block that parses"
    if not units:
        result.parse_error = parse_error("python", chosen[0].code)
        result.code = "\n\n".join(b.code for b in chosen)[:MAX_CODE_CHARS]
        return result
    if skipped > 0:
        note = f"{skipped} of {len(chosen)} Python block(s) did not parse and were skipped"
        result.note = f"{result.note}; {note}" if result.note else note
    result.code = "\n\n".join(units)[:MAX_CODE_CHARS] + "\n"
    result.stub = is_stub(result.code)
    return result
