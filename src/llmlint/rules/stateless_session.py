"""stateless-session: see rules/LLM004-stateless-session.md."""

from __future__ import annotations

from llmlint.knowledge.conversation import judge
from llmlint.knowledge.entrypoints import CLI_LOOP, find_entry_points
from llmlint.results.finding import Related
from llmlint.ruleset.rule import Rule, callee_text

STORE_FIX = ("keep the conversation in a store keyed by session or user id, and send the recent turns (capped by tokens) "
             "plus a running summary with each request")


class StatelessSession(Rule):
    needs = ("callgraph", "prompts")

    def check(self, analysis):
        for entry in find_entry_points(analysis):
            verdict = judge(analysis, entry)
            if verdict is None:
                continue
            where = analysis.location(verdict.path, verdict.node)
            at = f"line {where.line}" if verdict.path == entry.path else f"{where.path.rsplit('/', 1)[-1]}:{where.line}"
            if verdict.kind == "fresh":
                message = f"{entry.label} creates its conversation memory anew on every message ({verdict.detail}, {at}): each turn starts empty"
                fix = _fresh_fix(verdict.detail)
                related = [Related(where, "memory created per message here")]
            else:
                written = callee_text(verdict.node.func) if hasattr(verdict.node, "func") else None
                detail = f"`{written}`" if written else verdict.detail
                message = f"{entry.label} sends only the current message ({detail}, {at}) and keeps no history: every reply forgets the conversation"
                fix = _amnesia_fix(entry)
                related = [Related(where, "model called without the conversation here")]
            yield self.report(analysis.location(entry.path, entry.node), message, fix, related=related)


def _amnesia_fix(entry) -> str:
    if "Streamlit" in entry.label:
        return ("Streamlit reruns the script on every message, so plain variables start over: keep the turns in "
                "`st.session_state.messages`, send the recent ones with each request, and cap them by tokens")
    if entry.history_param:
        return (f"send the turns Gradio passes in `{entry.history_param}` (the recent ones, capped by tokens) together "
                "with the new message")
    if entry.kind == CLI_LOOP:
        return ("keep a list of turns outside the loop, append each question and answer to it, and send the recent "
                "turns (capped by tokens) with each request")
    return STORE_FIX


def _fresh_fix(detail: str) -> str:
    if "threads.create" in detail:
        return ("create the thread once per conversation, store its id with the user's session, and add each new "
                "message to that thread")
    if "start_chat" in detail or "chats.create" in detail:
        return ("keep one chat session per conversation (or pass the stored turns as `history=`), keyed by the "
                "session id, instead of starting a new one per message")
    return ("create the memory once per conversation and keep it in a store keyed by the session id (e.g. "
            "`RunnableWithMessageHistory` with a Redis or SQL history)")
