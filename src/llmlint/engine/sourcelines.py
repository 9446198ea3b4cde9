"""Lines and comments of a source text, from CPython's `ast` tree of it: no libcst here, so that a run that only
has to read comments (a file whose code did not change) never imports it."""

from __future__ import annotations

import ast
import bisect
import io
import re
import tokenize

_NEWLINE = re.compile(r"\r\n|\r|\n")


class SourceLines:
    """Lines of a text, and the `ast`'s (line, UTF-8 byte column) turned into character columns and offsets."""

    def __init__(self, text: str):
        self.text = text
        self.line_starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]
        self.ascii = text.isascii()

    def line_text(self, line: int) -> str:
        starts = self.line_starts
        end = starts[line] if line < len(starts) else len(self.text)
        return self.text[starts[line - 1] : end]

    def column(self, line: int, byte_column: int) -> int:
        if self.ascii:
            return byte_column
        text = self.line_text(line)
        if text.isascii():
            return byte_column
        return len(text.encode("utf-8")[:byte_column].decode("utf-8", "ignore"))

    def offset(self, line: int, byte_column: int) -> int:
        return self.line_starts[line - 1] + self.column(line, byte_column)

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.line_starts, offset)


def comment_lines(text: str, tree: ast.Module) -> dict[int, str]:
    """{line: the comment on it, from `#` to the end of the line}: every `#` that no string literal holds."""
    if "#" not in text:
        return {}
    lines = SourceLines(text)
    spans = []
    comments = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes))):
            start, end = lines.offset(node.lineno, node.col_offset), lines.offset(node.end_lineno, node.end_col_offset)
            spans.append((start, end))
            if node.end_lineno > node.lineno and "#" in text[start:end]:
                # strings implicitly joined over several lines may have comments between their parts
                comments.update(_comments_between_parts(text[start:end], node.lineno))
    spans.sort()
    starts = [s for s, _ in spans]
    ends = []  # running maximum of span ends, so one bisect answers "is this offset inside any span"
    high = -1
    for _, end in spans:
        high = max(high, end)
        ends.append(high)
    position = text.find("#")
    while position >= 0:
        i = bisect.bisect_right(starts, position) - 1
        if i >= 0 and ends[i] > position:
            position = text.find("#", position + 1)
            continue
        newline = _NEWLINE.search(text, position)
        end = newline.start() if newline else len(text)
        comments[lines.line_of(position)] = text[position:end]
        position = text.find("#", end)
    return comments


def code_only(text: str, comments: dict[int, str]) -> str | None:
    """`text` without its comments (each with the blanks before it) and without trailing blank space: what the
    code of a file is, so that two texts with equal code only differ in comments and blank lines at the end.
    None when a comment is not where `comment_lines` says (the caller then treats the code as changed)."""
    if not comments:
        return text.rstrip()
    lines = SourceLines(text)
    pieces, kept_to = [], 0
    for line in sorted(comments):
        comment = comments[line]
        if line > len(lines.line_starts):
            return None
        newline = _NEWLINE.search(text, lines.line_starts[line - 1])
        end = newline.start() if newline else len(text)
        start = end - len(comment)
        if start < kept_to or text[start:end] != comment:
            return None
        code_end = start
        while code_end > kept_to and text[code_end - 1] in " \t\f":
            code_end -= 1
        pieces.append(text[kept_to:code_end])
        kept_to = end
    pieces.append(text[kept_to:])
    return "".join(pieces).rstrip()


def _comments_between_parts(segment: str, first_line: int) -> dict[int, str]:
    found = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO("(" + segment + ")").readline):
            if token.type == tokenize.COMMENT:
                found[first_line + token.start[0] - 1] = token.string
    except (tokenize.TokenError, SyntaxError):
        pass
    return found
