"""What analysed code may put into llmlint's output and cache: a provider key is never kept or shown whole, and a
control character never reaches a terminal or a log raw.

One recogniser of keys (the catalog's formats: `sk-...`, `sk-proj-...`, `sk-ant-...`, `AIza...`, `hf_...`, `gsk_...`,
and a long literal given to an `api_key`-like name) serves LLM107, the index (which stores key-like literals only
redacted) and every reporter (`safe_text`)."""

from __future__ import annotations

import re

KEY_PATTERN = re.compile(r"(?<![A-Za-z0-9_\-])(?:sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{16,}|AIza[0-9A-Za-z_\-]{30,}|hf_[A-Za-z0-9]{20,}|gsk_[A-Za-z0-9]{20,})")
# names a key is given to: `api_key=`, `openai_api_key=`, `openai.api_key =`, `OPENAI_API_KEY =`, `os.environ["HF_TOKEN"]`
KEY_NAME = re.compile(r"(?i)(?:^|[._\[\]'\"])(?:\w*_)?api_?key\b|(?:^|_)(?:OPENAI|ANTHROPIC|GROQ|COHERE|MISTRAL|GOOGLE|GEMINI|HF|HUGGINGFACE|TOGETHER)_(?:API_)?(?:KEY|TOKEN)")
KEY_PREFIXES = ("sk-", "AIza", "hf_", "gsk_")  # every KEY_PATTERN match holds one: a cheap test before the regex
PROVIDERS = (("sk-ant-", "Anthropic"), ("sk-", "OpenAI"), ("AIza", "Google"), ("hf_", "Hugging Face"), ("gsk_", "Groq"))

PLACEHOLDER = re.compile(r"(?i)^(?:empty|none|null|ollama|dummy|test|fake|placeholder|changeme|your[-_ ]?.*|<.*>|\$\{.*\}|sk-\.\.\..*)$")
# (and words no generated key spells out: a test suite's `sk-test-key-for-testing`, `sk-mock-...`)
MASKED = re.compile(r"(?i)(\.\.\.|x{4,}|\*{3,}|<|>|your|example|placeholder|replace|dummy|fake|test|mock|sample|invalid|\{|\})")
_WORDS = re.compile(r"(?:sk-(?:ant-|proj-)?)?[a-z]+(?:[-_.][a-z]+){2,}")  # three or more lowercase words, nothing else
_NAMED_SECRET = re.compile(r"[A-Za-z0-9_\-\.]{20,}")

# C0 and C1 controls and DEL, the Unicode line and paragraph separators, and the bidirectional formatting characters
# (which reorder what a reader sees, "Trojan Source")
# Control characters, bidirectional controls, and lone surrogates (a file name's bytes that are not UTF-8, as
# os.listdir hands them over): none can be printed as it is.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def may_hold_key(text: str) -> bool:
    return any(prefix in text for prefix in KEY_PREFIXES)


def is_placeholder(value: str) -> bool:
    """`EMPTY`, `ollama`, `sk-...`, `sk-xxxx...`, `your-key-here`, anything shorter than 20 characters: not a key."""
    text = value.strip()
    if len(text) < 20 or PLACEHOLDER.match(text) or MASKED.search(text) or " " in text:
        return True
    if _WORDS.fullmatch(text):
        return True  # `secret-key-do-not-leak`, `sk-my-openai-key-here`: words a person typed, not a generated key
    body = text.split("-")[-1].split("_")[-1]
    return len(set(body)) <= 3  # sk-aaaaaaaa... / 000000...


def is_key(value: str, named: bool = False) -> bool:
    """Whether the literal `value` is a provider key (LLM107's test). `named`: it is given to an `api_key`-like name
    (KEY_NAME), where any long secret-looking literal counts."""
    text = value.strip()
    if is_placeholder(text):
        return False
    if KEY_PATTERN.fullmatch(text) or KEY_PATTERN.fullmatch(text.removeprefix("Bearer ").strip()):
        return True
    return named and _NAMED_SECRET.fullmatch(text) is not None


def provider_of(value: str) -> str:
    """The provider whose key format `value` has ("OpenAI", "Anthropic", ...), or "provider"."""
    text = value.strip()
    return next((provider for prefix, provider in PROVIDERS if text.startswith(prefix)), "provider")


def redact_key(value: str) -> str:
    """A key as it may be shown: its provider prefix and two more characters, and its length (`sk-pr…(58 chars)`)."""
    text = value.strip()
    prefix = next((p for p, _ in PROVIDERS if text.startswith(p)), "")
    return f"{text[:len(prefix) + 2]}…({len(text)} chars)"


def redact(text):
    """`text` (str or bytes) with every key-like run (KEY_PATTERN) replaced by its redacted form. Idempotent."""
    if isinstance(text, bytes):
        if not any(prefix.encode() in text for prefix in KEY_PREFIXES):
            return text
        decoded = text.decode("utf-8", "surrogateescape")
        redacted = redact(decoded)
        return text if redacted == decoded else redacted.encode("utf-8", "surrogateescape")
    if not may_hold_key(text):
        return text
    return KEY_PATTERN.sub(lambda match: redact_key(match.group()), text)


def redact_comments(comments: dict) -> dict:
    """{line: comment} with the keys in them redacted (a key commented out is still a key); the same dict when none
    holds one."""
    if not any(may_hold_key(text) for text in comments.values()):
        return comments
    return {line: redact(text) for line, text in comments.items()}


def escape_controls(text: str) -> str:
    """`text` with every control character written as an escape (`\\n`, `\\x1b`, `\\u202e`): it stays one line, and
    no terminal sequence or bidirectional override in analysed code reaches the reader."""
    if _CONTROL.search(text) is None:
        return text
    return _CONTROL.sub(_escape, text)


def _escape(match) -> str:
    char = match.group()
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte of a name that is not UTF-8 (surrogateescape): show the byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def safe_text(text) -> str:
    """Any text taken from analysed code (a model name, a prompt, a path, a message quoting them) as llmlint may
    print it: keys redacted, control characters escaped. Idempotent, and the identity on ordinary text."""
    if not isinstance(text, str):
        text = str(text)
    return escape_controls(redact(text))
