"""Does a conversational entry point remember the conversation?

`judge(analysis, entry)` looks at the entry point and every project function it reaches (the region) and answers:
- None when it sees history: earlier turns loaded or the new turn stored (a request's history field, a session,
  `st.session_state`, a memory or chat-history object, a store keyed by session id, an Assistants thread or
  `previous_response_id`, a helper named for history...), or when it cannot tell what the model is sent;
- a Verdict(kind="fresh") when the only memory is created anew inside each request (`ConversationBufferMemory()`,
  `client.beta.threads.create()`, `model.start_chat()` per message);
- a Verdict(kind="amnesia") when every model call in the region is sent the current message (and a system prompt)
  only: a literal list of system/user messages, or a string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import networkx as nx

from llmlint.engine import exprs as E
from llmlint.engine.moduleindex import MODULE_SCOPE
from llmlint.flow.calls import argument_for
from llmlint.knowledge.entrypoints import CHAT_APP, EntryPoint
from llmlint.link.values import Ctx, Ext, Func, Klass, Lit, Obj

HISTORY = re.compile(r"(?i)histor|memor|messages|conversation|transcript|(?:^|_)turns(?:$|_)|chat_?log|session_state"
                     r"|user_session|session_?id|thread_?id|previous_response|checkpoint|chat_context|dialog(?:ue)?_?(?:state|log)")
_WORD = re.compile(r"^\w[\w:.\-{}]{0,59}$")  # a key-like string ("history", "chat:{sid}"), not prose
# Constructors and methods that create a conversation memory, thread or chat session.
FRESH = re.compile(r"(?:^|\.)(?:Conversation\w*Memory|ConversationChain|(?:InMemory)?ChatMessageHistory"
                   r"|ChatMemoryBuffer(?:\.from_defaults)?|SimpleChatEngine(?:\.from_defaults)?|ChatSession|threads\.create"
                   r"|start_chat|chats\.create|as_chat_engine)(?:\(\))?$")
SESSION_STORES = {"user_session", "session_state"}
_MEMORY_ARGS = {"memory", "checkpointer", "chat_memory", "chat_history", "history", "store", "message_history"}
_HISTORY_ARGS = ("history", "chat_history", "messages", "chat_memory", "memory", "session_id", "thread_id", "previous_response_id",
                 "conversation", "conversation_id")
_SDK_ROOTS = {"openai", "anthropic", "google", "vertexai", "cohere", "mistralai", "groq", "together", "ollama", "litellm",
              "huggingface_hub", "boto3"}
_LOGGING = {"debug", "info", "warning", "warn", "error", "exception", "critical", "log", "print", "write", "echo", "markdown",
            "send", "reply", "say", "send_message", "emit", "respond"}
_ASSISTANT_ROLES = {"assistant", "ai", "model", "tool", "function", "placeholder"}
_CURRENT_ROLES = {"system", "user", "developer", "human"}
_AI_MESSAGES = {"AIMessage", "AssistantMessage", "MessagesPlaceholder", "ToolMessage", "FunctionMessage", "ChatMessage"}
_USER_MESSAGES = {"HumanMessage", "SystemMessage", "UserMessage", "SystemMessagePromptTemplate", "HumanMessagePromptTemplate"}
_LIST_ARGS = ("messages", "contents", "chat_history")
_IDENTITY_ARGS = {"user", "metadata", "extra_headers", "safety_identifier", "prompt_cache_key", "tags", "run_name"}
_RECORD_CLASS = re.compile(r"Message|Turn|Conversation|History|Exchange")
_TEXT_ARGS = ("input", "prompt", "message", "query", "question", "text", "inputs", "content")
_TURN_TEXT = ("text", "content", "prompt", "query", "question")  # `message.text`: what one turn says
MAX_REGION = 60
LABEL_TOKENS = 20  # an output cap this small means a label, not a reply
CURRENT, HISTORY_SHAPE = "current", "history"


@dataclass
class Verdict:
    kind: str  # "amnesia" or "fresh"
    detail: str  # the creation call for "fresh", the model call for "amnesia"
    path: str
    node: object  # where the fresh memory is created, or the model call


def judge(analysis, entry: EntryPoint) -> Verdict | None:
    region = _region(analysis, entry)
    if region is None:
        return None
    judge_ = _Judge(analysis, entry, region)
    if judge_.has_history():
        return None
    if judge_.fresh:
        return judge_.fresh[0]
    calls = [c for c in analysis.model_calls if (c.module.path, c.function.qualname) in region]
    if not calls or judge_.one_shot(calls):
        return None
    for call in calls:
        if judge_.call_shape(call) != CURRENT:
            return None
    first = calls[0]
    return Verdict("amnesia", f"`{first.api}`", first.module.path, first.call)


def _region(analysis, entry: EntryPoint):
    """The entry point's function and every project function it reaches (from inside the chat loop, for a loop)."""
    graph, start = analysis.callgraph, (entry.path, entry.qualname)
    if start not in graph:
        return None
    if entry.loop is not None:
        seeds = [callee for _, callee, data in graph.out_edges(start, data=True)
                 if any(entry.loop.id in site.loops for site in data["sites"])]
    else:
        seeds = list(graph.successors(start))
    region = {start}
    for seed in seeds:
        region.add(seed)
        region |= nx.descendants(graph, seed)
        if len(region) > MAX_REGION:
            return None
    return region


class _Judge:
    def __init__(self, analysis, entry: EntryPoint, region: set):
        self.analysis, self.project, self.entry, self.region = analysis, analysis.project, entry, region
        self.fresh: list[Verdict] = []
        self.functions = [(path, self.project.function(Ctx(path, q))) for path, q in sorted(region)]
        self.functions = [(path, fn) for path, fn in self.functions if fn is not None]

    # --- history signals ------------------------------------------------------------------------------------
    def has_history(self) -> bool:
        for path, fn in self.functions:
            if self._function_has_history(path, fn):
                return True
        return False

    def _in_scope(self, path, fn, line) -> bool:
        """Code that runs per message: the handler, its callees; in a chat loop, the loop's body."""
        if self._is_entry(path, fn) and self.entry.loop is not None:
            return self.entry.loop.span.line <= line <= self.entry.loop.span.end_line
        return fn.qualname != MODULE_SCOPE or self.entry.kind == CHAT_APP or self._is_entry(path, fn)

    def _is_entry(self, path, fn) -> bool:
        return (path, fn.qualname) == (self.entry.path, self.entry.qualname)

    def _function_has_history(self, path, fn) -> bool:
        ctx = Ctx(path, fn.qualname)
        skip = _Skip()  # SDK and memory call paths are judged by their arguments; logging calls not at all
        for site in fn.calls:
            call = site.call
            value = self.project.resolve(call.func, ctx, call.line)
            name = _qualified(value)
            if call.line < fn.span.line:
                skip.calls.add((call.line, call.col))  # a decorator (`@app.post("/messages")`)
                continue
            if name and (FRESH.search(name) or name.split(".")[0] in _SDK_ROOTS):
                skip.funcs.add((call.line, call.col))
                if self._history_args(call, ctx, sdk=not FRESH.search(name)):
                    return True
                if FRESH.search(name) and self._in_scope(path, fn, call.line):
                    self.fresh.append(Verdict("fresh", f"`{E.dotted(call.func) or name}(...)`", path, call))
                continue
            method = call.func.attr if isinstance(call.func, E.Attr) else E.dotted(call.func)
            if method in _LOGGING:
                skip.calls.add((call.line, call.col))
            elif isinstance(value, Klass) and _RECORD_CLASS.search(value.qualname.rsplit(".", 1)[-1]):
                return True  # an ORM/record class of messages or turns: the turn is stored or loaded
        roots = [site.call for site in fn.calls]
        roots += [a.value for a in fn.assigns] + [a.target_expr for a in fn.assigns if a.target_expr is not None] + list(fn.tests)
        for root in roots:
            for node in _walk(root, skip):
                if self._is_history_node(node, path, fn, ctx):
                    return True
        return False

    def _history_args(self, call: E.Call, ctx, sdk: bool = False) -> bool:
        """A history-bearing keyword given something that is not a fresh literal (`history=stored`, `thread_id=tid`).
        The `messages` of a model call are judged by what they hold (`call_shape`), not by their name."""
        for key, value in call.kwargs:
            if key not in _HISTORY_ARGS or (sdk and key == "messages"):
                continue
            if not _is_literal(value) and not self._is_fresh_value(value, ctx):
                return True
        return False

    def _is_fresh_value(self, value, ctx) -> bool:
        while isinstance(value, E.Attr):  # thread.id of a thread created here
            value = value.base
        if isinstance(value, E.Name):
            fn = self.project.function(ctx)
            assigns = [a for a in fn.assigns if a.target == value.id] if fn else []
            return bool(assigns) and all(a.op == "=" and self._is_fresh_assign(a, ctx) for a in assigns)
        return self._is_fresh_call(value, ctx)

    def _is_fresh_assign(self, assign, ctx) -> bool:
        return _is_literal(assign.value) or self._is_fresh_call(assign.value, ctx)

    def _is_fresh_call(self, value, ctx) -> bool:
        if isinstance(value, E.Await):
            value = value.value
        if not isinstance(value, E.Call):
            return False
        return bool(FRESH.search(_qualified(self.project.resolve(value.func, ctx, value.line)) or ""))

    def _is_history_node(self, node, path, fn, ctx) -> bool:
        if isinstance(node, (E.Call, E.Attr, E.Subscript)):
            read = self.project.store_read(node, ctx)  # cl.user_session.get("agent"), st.session_state.messages
            if read is not None:
                return self._store_holds_history(*read, ctx)
        if isinstance(node, E.Name):
            if node.id == self.entry.history_param and self._is_entry(path, fn):
                return True
            if node.id == "session":
                return _qualified(self.project.resolve(node, ctx)) in ("flask.session", "quart.session")
            return bool(HISTORY.search(node.id)) and self._name_is_history(node.id, path, fn, ctx)
        if isinstance(node, E.Attr):
            if node.attr == "session":
                return (E.dotted(node.base) or "") in ("request", "req", "self.request", "scope", "websocket", "ws")
            if node.attr in SESSION_STORES:
                return False  # the store itself: what is read from it decides (above)
            return bool(HISTORY.search(node.attr))
        if isinstance(node, E.Subscript):
            key = E.literal_str(node.index)
            return bool(key and _WORD.match(key) and HISTORY.search(key))
        if isinstance(node, E.Const) and isinstance(node.value, str):
            return bool(_WORD.match(node.value) and HISTORY.search(node.value))
        if isinstance(node, E.FStr):
            return any(isinstance(p, str) and _WORD.match(p) and HISTORY.search(p) for p in node.parts)
        return False

    def _store_holds_history(self, store: str, key: str, ctx) -> bool:
        """A read of `key` from a session store brings history when the key says so (`message_history`), or when
        what is stored there may keep the conversation itself. A LangGraph agent or graph built without a
        `checkpointer=` (or `store=`) does not: it starts each turn from the messages it is sent."""
        if HISTORY.search(key):
            return True
        value = self.project.stored_value(store, key, ctx, 0)
        if not isinstance(value, Obj) or value.parts or not value.cls.startswith("langgraph") or value.ctor is None:
            return True  # (other chains and engines are taken to carry what they need)
        calls = [value.ctor] + [c for c, _ in value.chain]
        return any(isinstance(c, E.Call) and any(key in _MEMORY_ARGS for key, _ in c.kwargs) for c in calls)

    def _name_is_history(self, name, path, fn, ctx) -> bool:
        if name in fn.params and not any(a.target == name for a in fn.assigns):
            return self._is_entry(path, fn) or self._param_supplied(path, fn, name)
        assigns = [a for a in fn.assigns if a.target == name]
        if assigns:
            if name == "messages" or all(a.op != "=" or self._is_fresh_assign(a, ctx) for a in assigns):
                return self._loop_carried(path, fn, assigns)
            return True
        value = self.project.resolve(E.Name(name), ctx)
        script = self.entry.kind == CHAT_APP and self.entry.qualname == MODULE_SCOPE
        if script and isinstance(value, Lit) and value.ctx.path == self.entry.path:
            return False  # a plain variable of a Streamlit script: gone on the next rerun
        if isinstance(value, Ext) and FRESH.search(value.name):
            return False
        if isinstance(value, Func) and not HISTORY.search(name.replace("messages", "")):
            return False  # build_messages(): a helper that builds the prompt, judged by what it returns
        return True

    def _loop_carried(self, path, fn, assigns) -> bool:
        """A list set up before a chat loop and changed inside it carries the conversation along the loop."""
        if not self._is_entry(path, fn) or self.entry.kind == CHAT_APP:
            return False
        for loop in fn.loops:
            inside = [a for a in assigns if loop.span.line <= a.line <= loop.span.end_line]
            if inside and any(a.op == "=" and a.line < loop.span.line for a in assigns):
                return True
        return False

    def _param_supplied(self, path, fn, name) -> bool:
        """Does some caller in the region pass this parameter of a helper? (True when no caller is known.)"""
        sites = [site for caller, _, data in self.analysis.callgraph.in_edges((path, fn.qualname), data=True)
                 if caller in self.region for site in data["sites"]]
        if not sites:
            return True
        return any(s.call.has_star or argument_for(s.call, fn, name) is not None for s in sites)

    # --- one-shot tasks -----------------------------------------------------------------------------------
    def one_shot(self, calls) -> bool:
        from llmlint.knowledge.taskkind import classify_call, request_texts

        for call in calls:
            texts = request_texts(self.analysis, call)
            if texts and all(is_one_shot(text) for text, _ in texts):
                continue
            if not classify_call(self.analysis, call, LABEL_TOKENS).is_simple:  # a label, yes/no, a score
                return False
        return True

    # --- what the model is sent -----------------------------------------------------------------------------
    def call_shape(self, call):
        if call.api.startswith(("llama_index.chat_engine", "google.generativeai.send_message")):
            return HISTORY_SHAPE  # the engine or chat session keeps the turns (created per request: see `fresh`)
        ctx = call.ctx
        shapes = []
        for key, value in call.call.kwargs:
            if key in _LIST_ARGS:
                shapes.append(self.shape(value, ctx, True, call.call.line, 0))
            elif key in _TEXT_ARGS:
                shapes.append(self.shape(value, ctx, False, call.call.line, 0))
        if not shapes and call.call.args:
            first = call.call.args[-1] if call.api.startswith("ollama.") else call.call.args[0]
            shapes.append(self.shape(first, ctx, False, call.call.line, 0))
        return _combine(shapes) if shapes else None

    def shape(self, expr, ctx: Ctx, want_list: bool, line: int, depth: int):
        if expr is None or depth > 8:
            return None
        deeper = depth + 1
        if isinstance(expr, E.Const):
            return CURRENT if expr.value is None or isinstance(expr.value, str) else None
        if isinstance(expr, E.FStr):
            return CURRENT
        if isinstance(expr, E.BinOp):
            return _combine([self.shape(side, ctx, want_list, line, deeper) for side in (expr.left, expr.right)])
        if isinstance(expr, E.Seq):
            return _combine([self.entry_shape(e, ctx, line, deeper) for e in expr.elts]) if expr.elts else CURRENT
        if isinstance(expr, E.DictExpr):
            return CURRENT if not want_list else None
        if isinstance(expr, E.Await):
            return self.shape(expr.value, ctx, want_list, line, deeper)
        if isinstance(expr, E.IfExp):
            return _combine([self.shape(arm, ctx, want_list, line, deeper) for arm in (expr.body, expr.orelse)])
        if isinstance(expr, E.Unknown) and expr.kind == "BooleanOperation":
            return _combine([self.shape(c, ctx, want_list, line, deeper) for c in expr.children])
        if isinstance(expr, E.Name):
            return self._name_shape(expr.id, ctx, want_list, line, deeper)
        if isinstance(expr, (E.Attr, E.Subscript)):
            key = expr.attr if isinstance(expr, E.Attr) else E.literal_str(expr.index)
            if key and HISTORY.search(key):
                return HISTORY_SHAPE  # req.messages, state["history"]
            if key in _TURN_TEXT:
                return CURRENT  # `contents=message.text`: the text of this turn, even where a list may go
            return None if want_list else CURRENT
        if isinstance(expr, E.Call):
            return self._call_shape(expr, ctx, want_list, deeper)
        return None

    def entry_shape(self, expr, ctx, line, depth):
        if isinstance(expr, E.DictExpr):
            role = expr.get("role")
            if role is None:
                return CURRENT if expr.get("parts") is not None or expr.get("text") is not None else None
            role = E.literal_str(role)
            return HISTORY_SHAPE if role in _ASSISTANT_ROLES else CURRENT if role in _CURRENT_ROLES else None
        if isinstance(expr, E.Seq) and expr.kind == "tuple" and len(expr.elts) == 2:
            role = E.literal_str(expr.elts[0])
            return HISTORY_SHAPE if role in _ASSISTANT_ROLES else CURRENT if role in _CURRENT_ROLES else None
        if isinstance(expr, E.Call):
            last = (E.dotted(expr.func) or "").rsplit(".", 1)[-1]
            return CURRENT if last in _USER_MESSAGES else HISTORY_SHAPE if last in _AI_MESSAGES else None
        if isinstance(expr, E.Unknown) and expr.kind == "Starred" and expr.children:
            return self.shape(expr.children[0], ctx, True, line, depth)
        if isinstance(expr, (E.Const, E.FStr)):
            return CURRENT
        if isinstance(expr, E.Name):
            assign = _last(self.project.function(ctx), expr.id, line)
            return self.entry_shape(assign.value, ctx, assign.line, depth + 1) if assign and assign.op == "=" else None
        return None

    def _name_shape(self, name, ctx, want_list, line, depth):
        fn = self.project.function(ctx)
        assign = _last(fn, name, line)
        if assign is not None:
            if assign.op != "=":
                return None
            shapes = [self.shape(assign.value, ctx, want_list, assign.line, depth)]
            for other in fn.assigns:  # messages.append(...) / messages += [...] that reach the call
                if other.target != name or not self._reaches(other.line, line, fn, assign.line):
                    continue
                if other.op in ("append", "insert"):
                    shapes.append(self.entry_shape(other.value, ctx, other.line, depth))
                elif other.op in ("extend", "+="):
                    shapes.append(self.shape(other.value, ctx, True, other.line, depth))
            return _combine(shapes)
        if name in fn.params:
            if HISTORY.search(name) and name != "session_id":
                return HISTORY_SHAPE
            if (ctx.path, ctx.function) == (self.entry.path, self.entry.qualname):
                return None if want_list else CURRENT
            return self._passed_shape(fn, ctx, name, want_list, depth)
        value = self.project.resolve(E.Name(name), ctx)
        if isinstance(value, Lit):
            return self.shape(value.expr, value.ctx, want_list, 0, depth)
        return None

    def _reaches(self, change_line, use_line, fn, bound_line) -> bool:
        """A change before the use, or later in a loop around both that does not bind the name anew (the next turn
        of a chat loop sees it)."""
        if change_line < use_line:
            return True
        return any(loop.span.line <= use_line and change_line <= loop.span.end_line
                   and not loop.span.line <= bound_line <= loop.span.end_line for loop in fn.loops)

    def _passed_shape(self, fn, ctx, name, want_list, depth):
        """A helper's parameter: what the callers in the region pass for it."""
        shapes = []
        for caller, _, data in self.analysis.callgraph.in_edges((ctx.path, ctx.function), data=True):
            if caller not in self.region:
                continue
            for site in data["sites"]:
                call = site.call
                passed = argument_for(call, fn, name)
                if call.has_star:
                    return None
                if passed is None:
                    shapes.append(CURRENT if name in fn.defaults and _is_literal(fn.defaults[name]) else None)
                else:
                    shapes.append(self.shape(passed, Ctx(caller[0], caller[1]), want_list, call.line, depth + 1))
        return _combine(shapes) if shapes else None

    def _call_shape(self, call: E.Call, ctx, want_list, depth):
        last = (E.dotted(call.func) or "").rsplit(".", 1)[-1] or (call.func.attr if isinstance(call.func, E.Attr) else "")
        if last in _USER_MESSAGES:
            return CURRENT
        if last in _AI_MESSAGES:
            return HISTORY_SHAPE
        value = self.project.resolve(call.func, ctx, call.line)
        if isinstance(value, Func):
            callee = self.project.function(value)
            if callee is None or not callee.returns:
                return None
            inner = Ctx(value.path, value.qualname)
            return _combine([self.shape(r, inner, want_list, 10**9, depth) for r in callee.returns])
        return None if want_list else CURRENT


_ONE_SHOT = re.compile(
    r"(?i)^(?:\d+[.)]\s*)?(?:please\s+)?(?:summari[sz]e|translate|classify|categori[sz]e|extract|rewrite|proofread|paraphrase"
    r"|correct\s+the|convert|label|tag|moderate|grade|detect|determine\s+(?:whether|if)|decide\s+(?:whether|if)"
    r"|generate\s+(?:a|an|the)\s+(?:title|summary|tag|caption|description|sql)"
    r"|write\s+(?:a|an|the)\s+(?:sql|query|title|summary|caption|description|headline|tweet|commit)"
    r"|analy[sz]e\s+(?:the|this)\s+(?:table|data|text|document|image|following))\b")
_PERSONA = re.compile(r"(?i)^\s*(?:you\s+are|you're|act\s+as|your\s+name\s+is|as\s+an?\s+\w+\s+assistant)\b")
_SENTENCE = re.compile(r"(?<=[.!?:])\s+|\n+")


def is_one_shot(text: str) -> bool:
    """The prompt gives a one-shot task: one of its first sentences, or (when it opens with no persona) any sentence,
    is an instruction such as "Summarize ...", "Translate ...", "Write an SQL query ..."."""
    sentences = [s.strip() for s in _SENTENCE.split(text) if s.strip()]
    scope = sentences if not _PERSONA.match(text) else sentences[:3]
    return any(_ONE_SHOT.match(s) for s in scope)


def _combine(shapes):
    if HISTORY_SHAPE in shapes:
        return HISTORY_SHAPE
    if not shapes or None in shapes:
        return None
    return CURRENT


def _last(fn, name, line):
    best = None
    for assign in fn.assigns if fn else ():
        if assign.target == name and assign.op in ("=", "with", "for") and (assign.line <= line or best is None):
            best = assign
    return best


def _qualified(value) -> str | None:
    if isinstance(value, Ext):
        return value.name
    if isinstance(value, Obj):
        return f"{value.cls}.{value.path}" if value.path else value.cls
    return None


def _is_literal(expr) -> bool:
    if isinstance(expr, E.Const):
        return True
    if isinstance(expr, (E.Seq, E.DictExpr)):  # [{"role": "user", "content": text}]: what is inside is the message
        inner = (e for e in E.walk(expr) if e is not expr and not isinstance(e, (E.Seq, E.DictExpr)))
        return all(isinstance(e, (E.Const, E.FStr, E.Name, E.Attr, E.Subscript)) for e in inner)
    if isinstance(expr, E.Call) and E.dotted(expr.func) in ("list", "dict") and not expr.args:
        return True
    return False


def _is_empty(expr) -> bool:
    if isinstance(expr, E.Seq) or (isinstance(expr, E.Call) and E.dotted(expr.func) in ("list", "dict") and not expr.args):
        return not getattr(expr, "elts", ())
    return isinstance(expr, E.DictExpr) and not expr.items or isinstance(expr, E.Const) and expr.value in (None, "", False)


class _Skip:
    def __init__(self):
        self.funcs: set = set()  # (line, col) of calls whose callee path is not read (SDK clients, memory classes)
        self.calls: set = set()  # (line, col) of calls not read at all (logging, sending the reply)


def _walk(expr, skip: _Skip):
    """Sub-expressions, leaving out SDK call paths and identity arguments, logging calls, and empty history
    placeholders (`chat_history=[]`); looking into conditional tests."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if node is None or isinstance(node, (str, bytes, int, float, tuple)):
            continue
        if isinstance(node, E.Call):
            where = (node.line, node.col)
            if where in skip.calls:
                continue
            yield node
            if where not in skip.funcs:
                stack.append(node.func)
            stack.extend(node.args)
            stack.extend(v for k, v in node.kwargs if not (where in skip.funcs and k in _IDENTITY_ARGS) and not (k and _is_empty(v)))
            continue
        yield node
        if isinstance(node, E.DictExpr):
            # a key is a history signal unless it holds a literal list, whose items are judged instead
            # (`{"messages": [("user", text)]}` is a LangGraph input of the current message only)
            stack.extend(x for k, v in node.items if not _is_empty(v) for x in ((v,) if isinstance(v, E.Seq) else (k, v)))
            continue
        if isinstance(node, E.IfExp) and getattr(node, "test", None) is not None:
            stack.append(node.test)
        stack.extend(_children(node))


def _children(node):
    if isinstance(node, E.Attr):
        return (node.base,)
    if isinstance(node, E.FStr):
        return tuple(p for p in node.parts if not isinstance(p, str))
    if isinstance(node, E.BinOp):
        return (node.left, node.right)
    if isinstance(node, E.Subscript):
        return (node.value, node.index)
    if isinstance(node, E.Slice):
        return (node.lower, node.upper)
    if isinstance(node, E.Seq):
        return node.elts
    if isinstance(node, E.DictExpr):
        return tuple(x for kv in node.items for x in kv)
    if isinstance(node, E.Comp):
        return (node.elt,) + tuple(node.iters)
    if isinstance(node, E.Await):
        return (node.value,)
    if isinstance(node, E.Lambda):
        return (node.body,)
    if isinstance(node, E.IfExp):
        return (node.body, node.orelse)
    if isinstance(node, E.Compare):
        return (node.left,) + tuple(node.comparators)
    if isinstance(node, E.Unknown):
        return node.children
    return ()
