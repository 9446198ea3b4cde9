"""missing-timeout: see rules/LLM101-missing-timeout.md."""

from __future__ import annotations

from llmlint.engine import exprs as E
from llmlint.fixes import timeout_fix
from llmlint.knowledge.modelcalls import UNBOUNDED
from llmlint.knowledge.settings import UNKNOWN, http_client_timeout, timeout_seconds
from llmlint.results.finding import Related
from llmlint.ruleset.rule import Rule, as_written, place

# Module attributes that set a timeout for every call of an SDK (`litellm.request_timeout = 30`).
GLOBAL_TIMEOUTS = {"openai.timeout", "openai.request_timeout", "litellm.request_timeout", "litellm.timeout"}


class MissingTimeout(Rule):
    def check(self, analysis):
        limit = float(self.options["max-seconds"])
        global_roots = self._roots_with_global_timeout(analysis)
        for call in analysis.model_calls:
            default = call.model_family.default_timeout
            if default is None or analysis.project.project_root(call.module.path) in global_roots:
                continue
            seconds, setting = self._effective_timeout(analysis, call)
            if seconds is UNKNOWN:
                continue
            if seconds is None:
                seconds = default
            if seconds <= limit:
                continue
            yield self._finding(analysis, call, seconds, setting, limit)

    def _effective_timeout(self, analysis, call):
        """(seconds or None when unset or UNKNOWN, the Setting it came from)."""
        project = analysis.project
        setting = call.settings.get("timeout")
        if setting is not None:
            return timeout_seconds(project, setting.expr, setting.ctx), setting
        client = call.client
        ctor = client.ctor if client is not None else None
        if isinstance(ctor, E.Call) and ctor.kwarg("http_client", "client", "async_client", "http_async_client") is not None:
            return http_client_timeout(project, ctor.kwarg("http_client", "client", "async_client", "http_async_client"), client.ctor_ctx), None
        if client is not None and (ctor is None and not client.parts):
            return UNKNOWN, None  # a client passed in from somewhere we cannot see
        if call.opaque_client or call.opaque_call:
            return UNKNOWN, None  # OpenAI(**settings) with settings from elsewhere: the timeout may be in there
        return None, None

    def _roots_with_global_timeout(self, analysis):
        roots = set()
        for idx, fn in analysis.project.functions():
            for assign in fn.assigns:
                if assign.target in GLOBAL_TIMEOUTS:
                    roots.add(analysis.project.project_root(idx.path))
        return roots

    def _finding(self, analysis, call, seconds, setting, limit):
        keyword = call.model_family.timeout_args[0] if call.model_family.timeout_args else "timeout"
        hint = f"`{call.model_family.timeout_hint}`" if call.model_family.timeout_hint else f"`{keyword}=30` (seconds)"
        where = call.client_ctor_location()
        shown = as_written(call)
        if setting is not None and seconds == UNBOUNDED:
            on = " on its client" if setting.where == "client" else ""
            if isinstance(setting.expr, E.Const) and setting.expr.value is None:
                message = f"`{keyword}=None`{on} disables the timeout of `{shown}`: it waits forever for a response"
            else:
                message = f"`{shown}` has no time limit{on}: it waits forever for a response"
        elif setting is not None:
            message = f"`{shown}` has a timeout of {seconds:g} s, above the {limit:g} s this project allows"
        elif seconds == UNBOUNDED:
            message = f"`{shown}` has no timeout: the {call.model_family.provider} client waits forever for a response"
        else:
            message = f"`{shown}` has no timeout: the {call.model_family.provider} client waits up to {seconds:g} s by default"
        if where is not None and setting is None:
            fix = f"pass {hint} where the client is created ({place(analysis, where[0], where[1].line, call.module.path)}), or on this call"
        else:
            fix = f"pass {hint} on this call or on its client, and handle the timeout error"
        related = []
        if where is not None:
            related.append(Related(analysis.location(*where), "client created here without a timeout" if setting is None else "client created here"))
        autofixes = timeout_fix(analysis, call, min(30.0, limit)) if setting is None else ()
        return self.report(analysis.location(call.module.path, call.call), message, fix, related=related, autofixes=autofixes,
                           api=call.api)

