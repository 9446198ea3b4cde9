"""Regenerate the README's rule table (and, with --output, the Quickstart output) from the code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from llmlint.registry import all_rules
from llmlint.ruletable import render_rule_table

ROOT = Path(__file__).resolve().parent.parent


def replace_block(text: str, name: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
    return pattern.sub(lambda m: m.group(1) + body + m.group(2), text)


def main() -> None:
    readme = ROOT / "README.md"
    text = replace_block(readme.read_text(encoding="utf-8"), "rules", render_rule_table(all_rules()))
    if "--output" in sys.argv:
        run = subprocess.run([sys.executable, "-m", "llmlint", "fixtures/demo-app", "--exit-zero", "--no-cache"], cwd=ROOT, capture_output=True, text=True)
        output = run.stdout + run.stderr
        text = replace_block(text, "quickstart-output", f"```text\n$ llmlint fixtures/demo-app --exit-zero\n{output}```\n")
    readme.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
