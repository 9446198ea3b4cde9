"""Reading the `# expect: LLM101 LLM102` markers fixtures put on the lines where findings belong."""

from __future__ import annotations

import re
from pathlib import Path

MARKER = re.compile(r"#\s*expect:\s*((?:LLM\d{3}[\s,]*)+)")


def expected_findings(root: Path, rule_ids=None) -> set[tuple[str, str, int]]:
    """{(rule id, path relative to `root`'s parent, line)} from the markers under `root` (a file or a folder)."""
    files = [root] if root.is_file() else sorted(root.rglob("*.py"))
    found = set()
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = MARKER.search(line)
            if not match:
                continue
            for rule_id in re.findall(r"LLM\d{3}", match.group(1)):
                if rule_ids is None or rule_id in rule_ids:
                    found.add((rule_id, path.resolve().as_posix(), number))
    return found


def actual_findings(report) -> set[tuple[str, str, int]]:
    return {(f.rule_id, Path(f.location.path).resolve().as_posix(), f.location.line) for f in report.findings}
