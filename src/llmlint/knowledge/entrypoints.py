"""Conversational entry points: the functions (or scripts) where a user's chat message enters the project.

Web routes (FastAPI, Flask, Quart, Starlette, aiohttp, Litestar, Sanic, Django), websocket handlers, Discord,
Slack and Telegram bot handlers, Streamlit and Gradio chat apps, Chainlit message handlers, CLI chat loops
(`while True:` around `input()`), and functions whose name and parameters say chat and session. Routes and bot
commands count only when something about them says conversation (the path, the name, the parameters); message
handlers, chat widgets and chat loops are conversational by nature.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from llmlint.engine import exprs as E
from llmlint.engine.moduleindex import MODULE_SCOPE
from llmlint.link.values import Ctx, Ext, Func, Klass, Obj

CHATTY = re.compile(r"(?i)chat|convers|messag|session|dialog|talk|(?:^|_)(?:reply|respond)(?:$|_)")
SESSION_PARAM = re.compile(r"(?i)^(?:session(?:_?id)?|conversation(?:_?id)?|thread_?id|chat_?id|sid)$")
MESSAGE_PARAM = re.compile(r"(?i)^(?:user_?)?(?:message|msg|input|text|query|question|prompt|content|utterance)$")

ROUTE, WEBSOCKET, BOT_MESSAGE, BOT_COMMAND, CHAT_APP, CLI_LOOP, CHAT_FUNCTION = (
    "web route", "websocket handler", "bot message handler", "bot command", "chat app", "CLI chat loop", "chat function")
STRONG = {BOT_MESSAGE, CHAT_APP, CLI_LOOP}  # conversational whatever they are called

_WEB = {"get": ROUTE, "post": ROUTE, "put": ROUTE, "patch": ROUTE, "route": ROUTE, "api_route": ROUTE, "view": ROUTE,
        "api_view": ROUTE, "csrf_exempt": ROUTE, "require_POST": ROUTE, "require_http_methods": ROUTE,
        "websocket": WEBSOCKET, "websocket_route": WEBSOCKET, "websocket_listener": WEBSOCKET, "ws": WEBSOCKET}
# decorator roots (top-level package) -> {decorator method or function: kind}
DECORATORS = {
    **{root: _WEB for root in ("fastapi", "flask", "quart", "starlette", "aiohttp", "litestar", "sanic", "django",
                               "rest_framework", "ninja", "bottle")},
    "flask_sock": {"route": WEBSOCKET},
    "flask_socketio": {"on": WEBSOCKET, "event": WEBSOCKET},
    "socketio": {"on": WEBSOCKET, "event": WEBSOCKET},
    **{root: {"event": BOT_MESSAGE, "listen": BOT_MESSAGE, "listener": BOT_MESSAGE, "command": BOT_COMMAND,
              "hybrid_command": BOT_COMMAND, "slash_command": BOT_COMMAND, "message_command": BOT_COMMAND}
       for root in ("discord", "nextcord", "disnake")},
    "slack_bolt": {"message": BOT_MESSAGE, "event": BOT_MESSAGE, "command": BOT_COMMAND},
    "aiogram": {"message": BOT_MESSAGE, "message_handler": BOT_MESSAGE},
    "telebot": {"message_handler": BOT_MESSAGE},
    "pyrogram": {"on_message": BOT_MESSAGE},
    "telethon": {"on": BOT_MESSAGE},
    "chainlit": {"on_message": CHAT_APP},
}
_DECORATOR_NAMES = frozenset(name for table in DECORATORS.values() for name in table)
# registration calls: last name of the callee -> (argument index of the handler, keyword, kind, index of the path)
REGISTRATIONS = {
    "add_url_rule": (2, "view_func", ROUTE, 0), "add_api_route": (1, "endpoint", ROUTE, 0),
    "add_post": (1, "handler", ROUTE, 0), "add_route": (2, "handler", ROUTE, 1),
    "add_websocket_route": (1, "endpoint", WEBSOCKET, 0), "add_api_websocket_route": (1, "endpoint", WEBSOCKET, 0),
    "Route": (1, "endpoint", ROUTE, 0), "WebSocketRoute": (1, "endpoint", WEBSOCKET, 0),
    "path": (1, "view", ROUTE, 0), "re_path": (1, "view", ROUTE, 0), "url": (1, "view", ROUTE, 0), "post": (1, "handler", ROUTE, 0),
    "MessageHandler": (1, "callback", BOT_MESSAGE, None), "CommandHandler": (1, "callback", BOT_COMMAND, 0),
    "register_message_handler": (0, "callback", BOT_MESSAGE, None), "register": (0, "callback", BOT_MESSAGE, None),
    "ChatInterface": (0, "fn", CHAT_APP, None), "serve": (0, "handler", WEBSOCKET, None),
}
_REGISTRATION_ROOTS = {"flask", "quart", "fastapi", "starlette", "aiohttp", "django", "telegram", "aiogram", "telebot",
                       "gradio", "websockets", "sanic", "litestar"}
# base classes (last name) whose methods are entry points: method name -> kind
VIEW_BASES = {
    "View": {"post": ROUTE, "get": ROUTE, "put": ROUTE}, "APIView": {"post": ROUTE, "get": ROUTE, "put": ROUTE},
    "HTTPEndpoint": {"post": ROUTE, "get": ROUTE}, "WebSocketEndpoint": {"on_receive": WEBSOCKET},
    "WebsocketConsumer": {"receive": WEBSOCKET}, "AsyncWebsocketConsumer": {"receive": WEBSOCKET},
    "JsonWebsocketConsumer": {"receive_json": WEBSOCKET}, "AsyncJsonWebsocketConsumer": {"receive_json": WEBSOCKET},
    "Client": {"on_message": BOT_MESSAGE}, "Bot": {"on_message": BOT_MESSAGE}, "AutoShardedClient": {"on_message": BOT_MESSAGE},
    "Cog": {"on_message": BOT_MESSAGE},
}
_VIEW_ROOTS = {"django", "rest_framework", "starlette", "channels", "discord", "nextcord", "disnake"}
_INPUT_CALLS = frozenset({"input", "prompt", "ask", "chat_input"})  # input(), click/typer.prompt, rich Prompt.ask, st.chat_input
_CALL_NAMES = frozenset(REGISTRATIONS) | _INPUT_CALLS


@dataclass
class EntryPoint:
    path: str
    qualname: str  # the handler, or MODULE_SCOPE for a script
    kind: str
    node: object  # Span of the def, or the Call (st.chat_input, the while loop's input()) to report at
    label: str  # how to name it in a message: "`POST /chat` route", "Discord on_message handler"
    history_param: str | None = None  # the parameter the framework passes the history in (Gradio)
    loop: object = None  # the LoopInfo of a CLI/websocket chat loop, when the conversation is one loop
    evidence: list = field(default_factory=list)


def find_entry_points(analysis) -> list[EntryPoint]:
    """Every conversational entry point of the project, once per handler, in path and line order."""
    project = analysis.project
    found: dict = {}
    for idx, fn in project.functions():
        if fn.qualname != MODULE_SCOPE:
            for entry in _decorated(project, idx, fn):
                found.setdefault((idx.path, fn.qualname), entry)
        names = {_last_name(site.call.func) for site in fn.calls}
        if not names.isdisjoint(_CALL_NAMES):
            for entry in (*_registered(project, idx, fn), *_scripts(project, idx, fn)):
                found.setdefault((entry.path, entry.qualname), entry)
    for idx in project.indexes.values():
        for entry in _view_methods(project, idx):
            found.setdefault((entry.path, entry.qualname), entry)
    for idx, fn in project.functions():
        key = (idx.path, fn.qualname)
        if key not in found and _is_chat_function(analysis, idx, fn):
            found[key] = EntryPoint(idx.path, fn.qualname, CHAT_FUNCTION, fn.span, f"chat function `{fn.name}()`")
    entries = [e for e in found.values() if e.kind in STRONG or _is_conversational(project, e)]
    return sorted(entries, key=lambda e: (e.path, _line(e.node)))


def _line(node) -> int:
    return node.line


def _origin(value):
    """(top-level package, last name) of a resolved decorator or callee."""
    if isinstance(value, Ext):
        return value.name.split(".")[0], value.name.rsplit(".", 1)[-1]
    if isinstance(value, Obj):
        last = value.path.rsplit(".", 1)[-1].removesuffix("()") if value.path else value.cls.rsplit(".", 1)[-1]
        return value.cls.split(".")[0], last
    return None, None


def is_framework_handler(project, idx, fn) -> bool:
    """Whether a decorator registers `fn` with a web, websocket or bot framework (`@app.route("/stream")`)."""
    return any(True for _ in _decorated(project, idx, fn))


def _decorated(project, idx, fn):
    ctx = Ctx(idx.path, fn.parent or MODULE_SCOPE)
    for decorator in fn.decorators:
        target = decorator.func if isinstance(decorator, E.Call) else decorator
        if _last_name(target) not in _DECORATOR_NAMES:
            continue
        root, last = _origin(project.resolve(target, ctx))
        kind = DECORATORS.get(root, {}).get(last)
        if kind is None:
            continue
        route = E.literal_str(decorator.arg(0)) if isinstance(decorator, E.Call) else None
        if root in ("discord", "nextcord", "disnake") and kind == BOT_MESSAGE and fn.name != "on_message":
            continue
        if root == "slack_bolt" and last == "event" and not (route and re.search(r"message|mention", route)):
            continue
        if kind == BOT_MESSAGE and isinstance(decorator, E.Call) and decorator.has_kwarg("commands"):
            kind = BOT_COMMAND  # telebot/aiogram handlers filtered to /commands
        label = _label(kind, root, last, route, fn.name)
        yield EntryPoint(idx.path, fn.qualname, kind, fn.span, label, evidence=[route or "", fn.name])


def _label(kind, root, last, route, name) -> str:
    if kind in (ROUTE, WEBSOCKET) and route:
        verb = last.upper() if last in ("get", "post", "put", "patch") else ""
        return f"{kind} `{(verb + ' ') if verb else ''}{route}`"
    if root == "chainlit":
        return f"Chainlit @cl.on_message handler `{name}()`"
    framework = {"discord": "Discord", "nextcord": "Discord", "disnake": "Discord", "slack_bolt": "Slack", "aiogram": "Telegram",
                 "telebot": "Telegram", "pyrogram": "Telegram", "telethon": "Telegram", "telegram": "Telegram"}.get(root)
    return f"{framework + ' ' if framework else ''}{kind} `{name}()`"


def _registered(project, idx, fn):
    ctx = Ctx(idx.path, fn.qualname)
    for site in fn.calls:
        call = site.call
        last = _last_name(call.func)
        spec = REGISTRATIONS.get(last)
        if spec is None:
            continue
        root, _ = _origin(project.resolve(call.func, ctx, call.line))
        if root not in _REGISTRATION_ROOTS:
            continue
        position, keyword, kind, path_at = spec
        handler = call.arg(position, keyword)
        if kind == ROUTE and last == "add_route" and root == "starlette":
            handler = call.arg(1, "endpoint")
        target = project.resolve(handler, ctx, call.line) if isinstance(handler, (E.Name, E.Attr)) else None
        route = E.literal_str(call.arg(path_at)) if path_at is not None else None
        if isinstance(target, Func):
            target_fn = project.function(target)
            if target_fn is None:
                continue
            if root == "gradio":
                params = [p for p in target_fn.params if p not in ("self", "cls")]
                history = params[1] if len(params) > 1 else None
                yield EntryPoint(target.path, target.qualname, CHAT_APP, target_fn.span,
                                 f"Gradio ChatInterface function `{target_fn.name}()`", history_param=history)
                continue
            label = _label(kind, root, last, route, target_fn.name)
            yield EntryPoint(target.path, target.qualname, kind, target_fn.span, label, evidence=[route or ""])


def _scripts(project, idx, fn):
    """Streamlit chat scripts (st.chat_input) and CLI chat loops (`while True:` around input())."""
    ctx = Ctx(idx.path, fn.qualname)
    loops = {loop.id: loop for loop in fn.loops}
    for site in fn.calls:
        call = site.call
        last = _last_name(call.func)
        if last not in _INPUT_CALLS:
            continue
        value = project.resolve(call.func, ctx, call.line)
        root, _ = _origin(value)
        if root == "streamlit" and last == "chat_input":
            yield EntryPoint(idx.path, fn.qualname, CHAT_APP, call, "Streamlit chat app (st.chat_input)")
            return
        loop = next((loops[i] for i in reversed(site.loops) if i in loops and _forever(loops[i])), None)
        if loop is not None and reads_terminal(project, ctx, call):
            yield EntryPoint(idx.path, fn.qualname, CLI_LOOP, fn.span if fn.qualname != MODULE_SCOPE else loop.span,
                             "CLI chat loop" + (f" in `{fn.name}()`" if fn.qualname != MODULE_SCOPE else ""), loop=loop)
            return


def reads_terminal(project, ctx: Ctx, call: E.Call) -> bool:
    """`call` reads a line the user types: `input()`, or a prompt of click, typer, rich or prompt_toolkit."""
    last = _last_name(call.func)
    if last not in _INPUT_CALLS:
        return False
    value = project.resolve(call.func, ctx, call.line)
    if value is None:
        return last == "input" and isinstance(call.func, E.Name)
    return _origin(value)[0] in ("click", "typer", "rich", "prompt_toolkit")


def _last_name(func) -> str | None:
    """`add_url_rule` of `app.add_url_rule`, `input` of `input`: the callee's own name, without building the path."""
    return func.attr if isinstance(func, E.Attr) else func.id if isinstance(func, E.Name) else None


def _forever(loop) -> bool:
    return loop.kind == "while" and isinstance(loop.test, E.Const) and loop.test.value in (True, 1)


def _view_methods(project, idx):
    for cls in idx.classes.values():
        methods = _view_kinds(project, idx.path, cls, 0)
        for name, kind in methods.items():
            qualname = f"{cls.qualname}.{name}"
            fn = idx.functions.get(qualname)
            if fn is not None:
                label = f"{kind} `{cls.name}.{name}()`" if kind != BOT_MESSAGE else f"Discord bot message handler `{cls.name}.{name}()`"
                yield EntryPoint(idx.path, qualname, kind, fn.span, label, evidence=[cls.name])


def _view_kinds(project, path, cls, depth) -> dict:
    if depth > 4:
        return {}
    for base in cls.bases:
        value = project.resolve(base, Ctx(path, MODULE_SCOPE))
        root, last = _origin(value)
        if root in _VIEW_ROOTS and last in VIEW_BASES:
            return VIEW_BASES[last]
        if isinstance(value, Klass):
            inner = project.indexes[value.path].classes.get(value.qualname)
            if inner is not None:
                found = _view_kinds(project, value.path, inner, depth + 1)
                if found:
                    return found
    return {}


def _is_chat_function(analysis, idx, fn) -> bool:
    """`def chat(session_id, message)`: named for chat, taking a session and a message, called by nothing in the project."""
    if fn.qualname == MODULE_SCOPE or fn.name.startswith("test") or not re.search(r"(?i)chat|convers|dialog", fn.name):
        return False
    params = [p for p in fn.params if p not in ("self", "cls")]
    if not any(SESSION_PARAM.match(p) for p in params) or not any(MESSAGE_PARAM.match(p) for p in params):
        return False
    node = (idx.path, fn.qualname)
    graph = analysis.callgraph
    return node in analysis.reaches_model and not (node in graph and any(True for _ in graph.predecessors(node)))


def _is_conversational(project, entry: EntryPoint) -> bool:
    fn = project.function(Ctx(entry.path, entry.qualname))
    if fn is None:
        return False
    words = list(entry.evidence) + [fn.name] + [p for p in fn.params if p not in ("self", "cls", "request", "req")]
    words += [a for a in fn.annotations.values() if a]
    return any(CHATTY.search(w) for w in words if w)
