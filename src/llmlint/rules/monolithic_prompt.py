"""monolithic-prompt: see rules/LLM001-monolithic-prompt.md."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from llmlint.engine.moduleindex import Span
from llmlint.knowledge.prompts import concat, requests_of, task_instructions
from llmlint.results.finding import Related
from llmlint.ruleset.rule import Rule, as_written, place

MAX_RELATED = 6


@dataclass
class _Prompt:
    """One prompt definition and what the model calls that send it make of it."""

    definition: object
    tokens: int = 0
    jobs: list = field(default_factory=list)
    request_tokens: int = 0  # the whole request, when it is too big while no single part is
    senders: list = field(default_factory=list)  # (ModelCall, the calls that pass the prompt on to it)
    files: list = field(default_factory=list)  # prompt files its text is read from


class MonolithicPrompt(Rule):
    needs = ("callgraph", "prompts")

    def check(self, analysis):
        max_tokens, max_tasks = int(self.options["max-tokens"]), int(self.options["max-tasks"])
        prompts: dict = {}
        for call in analysis.model_calls:
            for request in requests_of(analysis, call):
                groups: dict = {}
                for part in request.parts:
                    if part.definition is not None and part.is_known:
                        groups.setdefault(part.definition, []).append(part)
                too_big = False
                for definition, parts in groups.items():
                    text = concat(parts)
                    prompt = prompts.setdefault(definition, _Prompt(definition))
                    jobs = task_instructions(text.text)
                    prompt.tokens = max(prompt.tokens, text.tokens)
                    if len(jobs) > len(prompt.jobs):
                        prompt.jobs = jobs
                    via = tuple(dict.fromkeys(v for p in parts for v in p.via))
                    if not any(c is call and v == via for c, v in prompt.senders):
                        prompt.senders.append((call, via))
                    for path, _ in text.sources:
                        if path not in analysis.project.indexes and path not in prompt.files:
                            prompt.files.append(path)
                    too_big = too_big or text.tokens > max_tokens or len(jobs) >= max_tasks
                if groups and not too_big and request.tokens > max_tokens:
                    largest = max(groups, key=lambda d: sum(p.tokens for p in groups[d]))
                    prompts[largest].request_tokens = max(prompts[largest].request_tokens, request.tokens)
        for definition in sorted(prompts, key=lambda d: (d.path, d.span.line, d.span.col)):
            prompt = prompts[definition]
            big = prompt.tokens > max_tokens
            busy = len(prompt.jobs) >= max_tasks
            if big or busy or prompt.request_tokens > max_tokens:
                yield self._finding(analysis, prompt, big, busy, max_tokens)

    def _finding(self, analysis, prompt: _Prompt, big: bool, busy: bool, max_tokens: int):
        definition = prompt.definition
        if not definition.name:
            subject = "this inline prompt"
        elif definition.name.endswith("()"):
            subject = f"the prompt built by `{definition.name}`"
        elif definition.name.isupper():
            subject = f"prompt `{definition.name}`"
        else:
            subject = f"the prompt assigned to `{definition.name}`"
        if prompt.files:
            subject += f" (read from {os.path.basename(prompt.files[0])})"
        reasons = []
        if big:
            reasons.append(f"has ~{prompt.tokens:,} tokens (limit {max_tokens:,})")
        if busy:
            jobs = prompt.jobs[:3] + (["..."] if len(prompt.jobs) > 3 else [])
            reasons.append(f"asks for {len(prompt.jobs)} jobs ({', '.join(jobs)})")
        if not reasons:
            reasons.append(f"plus the messages sent with it comes to about {prompt.request_tokens:,} tokens (limit {max_tokens:,})")
        message = f"{subject} {' and '.join(reasons)}; sent by {self._senders(analysis, prompt, definition.path)}"
        if busy:
            focus = ", ".join(f"`{job}`" for job in prompt.jobs[:3])
            fix = (f"split it into focused prompts with one job each ({focus}, ...), chain or route them, and move the "
                   "shared static instructions into a cacheable system prompt")
        else:
            fix = ("split it into focused prompts with one job each, move the static instructions into a cacheable system "
                   "prompt, and retrieve reference material per request instead of pasting all of it in")
        return self.report(analysis.location(definition.path, definition.span), message, fix, related=self._related(analysis, prompt))

    def _senders(self, analysis, prompt: _Prompt, here: str) -> str:
        places = []
        for call, _ in prompt.senders:
            sender = f"`{as_written(call)}` ({place(analysis, call.module.path, call.call.line, here)})"
            if sender not in places:
                places.append(sender)
        shown = places[0] if places else "a model call"
        return shown + (f" and {len(places) - 1} more" if len(places) > 1 else "")

    def _related(self, analysis, prompt: _Prompt):
        related, seen = [], set()
        for call, via in prompt.senders:
            items = [(call.module.path, call.call, f"sent to the model here (`{as_written(call)}`)")]
            items += [(v.path, v.call, f"passed to `{_callee(v.callee)}()` here") for v in via]
            for path, node, text in items:
                key = (path, node.line, node.col)
                if key not in seen and len(related) < MAX_RELATED:
                    seen.add(key)
                    related.append(Related(analysis.location(path, node), text))
        for path in prompt.files[:1]:
            related.append(Related(analysis.location(_shown(path), Span(1, 1, 1, 1)), "prompt text read from this file"))
        return related


def _shown(path: str) -> str:
    """A prompt file's path as shown: relative to the current directory when it is below it."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative.replace(os.sep, "/")


def _callee(qualname: str) -> str:
    parts = qualname.split(".")
    return parts[-2] if parts[-1] == "__init__" and len(parts) > 1 else parts[-1]
