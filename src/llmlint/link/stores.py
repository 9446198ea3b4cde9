"""Framework state stores: objects that keep a value under a key from one request or rerun to the next.

A chat app builds its chain, client or memory in one handler and reads it back in another by key:
`cl.user_session.set("chain", chain)` then `cl.user_session.get("chain")` (Chainlit), `st.session_state.chain =`
then `st.session_state["chain"]` (Streamlit), `g.client` (Flask), `app.state.llm` (FastAPI / Starlette), LlamaIndex's global `Settings.llm`. The linker
(project.Project) treats a read of such a key as the values written under it anywhere in the same project.
"""

from __future__ import annotations

from llmlint.link.values import Ext, Obj

# store object (qualified name) -> (methods that write `key, value`, methods that read `key`, attributes are keys)
STORES = {
    "chainlit.user_session": (("set",), ("get",), False),
    "streamlit.session_state": (("setdefault",), ("get", "setdefault"), True),
    "flask.g": (("setdefault",), ("get", "setdefault"), True),
    "llama_index.core.Settings": ((), (), True),  # the global LLM and callbacks of LlamaIndex (`Settings.llm = ...`)
}
# the `state` attribute of these application and request objects is a store of its own
STATE_OWNERS = ("fastapi.", "starlette.")
STATE_STORE = "starlette.state"
# the packages a module must import for any of its statements to touch a store
STORE_PACKAGES = frozenset({"chainlit", "streamlit", "flask", "fastapi", "starlette", "llama_index"})


def store_of(value) -> str | None:
    """The store `value` is, when it is one."""
    if isinstance(value, Ext) and value.name in STORES:
        return value.name
    if isinstance(value, Obj) and value.cls.startswith(STATE_OWNERS) and (value.path == "state" or value.path.endswith(".state")):
        return STATE_STORE
    return None


def holds_keys_as_attributes(store: str) -> bool:
    return store == STATE_STORE or STORES[store][2]


def write_methods(store: str) -> tuple:
    return () if store == STATE_STORE else STORES[store][0]


def read_methods(store: str) -> tuple:
    return () if store == STATE_STORE else STORES[store][1]
