"""unbounded-retry: see rules/LLM003-unbounded-retry.md."""

from __future__ import annotations

from llmlint.engine import exprs as E
from llmlint.fixes import retry_count_fix, retry_stop_fix
from llmlint.knowledge.retry import find_retries, importable
from llmlint.results.finding import Related, Severity
from llmlint.ruleset.rule import Rule, as_written

BACKOFF = "`time.sleep(min(30, 2 ** attempt))`"


class UnboundedRetry(Rule):
    needs = ("callgraph",)

    def check(self, analysis):
        limit = float(self.options["max-client-retries"])
        for retry in find_retries(analysis):
            if retry.kind == "client":
                if retry.value > limit:
                    yield self._client(analysis, retry, limit)
            elif retry.kind == "loop":
                if not retry.bounded or (retry.transient and not retry.waits):
                    yield self._loop(analysis, retry)
            elif not retry.bounded:
                yield self._library(analysis, retry) if retry.kind != "recursion" else self._recursion(analysis, retry)

    # what the retry reaches, for messages
    def _target(self, analysis, retry) -> str:
        if retry.kind in ("decorator", "recursion"):
            path, call = analysis.model_path((retry.module.path, retry.function.qualname))
        else:
            site = retry.sites[0]
            reached = retry.reached or analysis.model_reaching_sites.get((retry.module.path, site.call.line, site.call.col))
            if reached is None or isinstance(reached, tuple):
                path, call = analysis.model_path(reached) if reached is not None else ([], None)
            else:
                path, call = [], reached
        if call is None:
            return "a model call"
        details = [call.model] if call.model else []
        if path and retry.kind not in ("decorator", "recursion"):
            details.append(f"through {path[0][1]}()")
        elif len(path) > 1:
            details.append(f"through {path[-1][1]}()")
        return f"`{as_written(call)}`" + (f" ({', '.join(details)})" if details else "")

    def _where(self, analysis, retry) -> Location:
        return analysis.location(retry.module.path, retry.span)

    def _library(self, analysis, retry):
        fn, target = retry.function.qualname, self._target(analysis, retry)
        what = _policy_name(retry)
        if retry.library == "backoff":
            missing = f"`{retry.stop}` and no `max_time`" if retry.stop else "neither `max_tries` nor `max_time`"
            message = f"{what} on {fn}() has {missing}: it retries {target} forever"
            fix = f"add `max_tries=5` (or `max_time=60`) to {what}, and give up on errors that are not transient"
            autofixes = self._edit(analysis, retry, "max_tries", "5", None) if not retry.stop else ()
            return self.report(self._where(analysis, retry), message, fix, autofixes=autofixes)
        stop_name = importable(retry.module, "tenacity", "stop_after_attempt") if retry.library == "tenacity" else None
        keyword, value = ("stop", f"{stop_name or 'stop_after_attempt'}(5)") if retry.library == "tenacity" else ("stop_max_attempt_number", "5")
        if retry.stop:
            message = f"{what} around {target} in {fn}() has `{retry.stop}`: it retries forever"
        else:
            message = f"{what} around {target} in {fn}() has no `{keyword}=`: {retry.library} retries forever by default"
        imported = " (from tenacity)" if retry.library == "tenacity" and stop_name is None else ""
        fix = f"add `{keyword}={value}`{imported} to {what} and retry only transient errors"
        related = []
        if not retry.inline and retry.policy is not None and retry.policy_ctx is not None:
            related.append(Related(analysis.location(retry.policy_ctx.path, retry.policy), "retry policy configured here"))
        autofixes = self._edit(analysis, retry, keyword, value, stop_name) if not retry.stop else ()
        return self.report(self._where(analysis, retry), message, fix, related=related, autofixes=autofixes)

    def _edit(self, analysis, retry, keyword, value, stop_name):
        """Add `keyword=value` to the policy written where the finding is (a decorator or an inline `Retrying(...)`)."""
        if not retry.inline:
            return ()
        imports = (("tenacity", "stop_after_attempt"),) if retry.library == "tenacity" and stop_name is None else ()
        if retry.policy is None or retry.policy_ctx is None:  # a bare `@retry`
            return retry_stop_fix(analysis, retry.module.path, None, self._where(analysis, retry), keyword, value, imports)
        return retry_stop_fix(analysis, retry.policy_ctx.path, retry.policy, None, keyword, value, imports)

    def _loop(self, analysis, retry):
        fn, target = retry.function.qualname, self._target(analysis, retry)
        header = self._where(analysis, retry)
        if not retry.bounded:
            shape = _loop_shape(retry)
            nowait = "" if retry.waits else ", and no wait"
            message = f"retry loop `{shape}` in {fn}() retries {target} with no attempt limit, deadline or exit{nowait}"
            fix = (f"bound it: `for attempt in range(5):` (re-raise after the last) with backoff between attempts ({BACKOFF}), "
                   "or tenacity `@retry(stop=stop_after_attempt(5))`")
            return self.report(header, message, fix)
        message = f"retry loop in {fn}() retries {target} at once after a failure: nothing waits between attempts"
        fix = f"sleep with exponential backoff before the next attempt ({BACKOFF}), or use tenacity `wait=wait_random_exponential(max=30)`"
        return self.report(header, message, fix, severity=Severity.WARNING)

    def _recursion(self, analysis, retry):
        fn, target = retry.function.qualname, self._target(analysis, retry)
        name = retry.function.name
        message = f"{fn}() calls itself from its `except` handler with no depth bound: a lasting error in {target} ends in RecursionError"
        fix = (f"pass an attempt counter (`attempt: int = 0`, call `{name}(..., attempt=attempt + 1)`), re-raise at 5 and back off "
               "between attempts; or use tenacity `stop=stop_after_attempt(5)`")
        return self.report(self._where(analysis, retry), message, fix)

    def _client(self, analysis, retry, limit):
        call = retry.sites[0]
        if retry.value == float("inf"):
            message = f"`{retry.keyword}` is unlimited on the {call.family.provider} client of `{as_written(call)}`: a failing request is retried for ever"
        else:
            message = f"`{retry.keyword}={retry.value:g}` on the {call.family.provider} client of `{as_written(call)}`: a failing request is retried {retry.value:g} times before anyone hears of it"
        fix = f"set `{retry.keyword}` to at most {limit:g} (the SDK default is 2) and put an overall deadline on the request"
        autofixes = retry_count_fix(self._where(analysis, retry), retry.keyword, int(min(5, limit)))
        return self.report(self._where(analysis, retry), message, fix, severity=Severity.WARNING, autofixes=autofixes)


def _loop_shape(retry) -> str:
    """The loop's header, as far as the index tells it: `while True`, `while not done`, `for _ in itertools.count()`."""
    loop = next(l for l in retry.function.loops if (l.span.line, l.span.col) == (retry.span.line, retry.span.col))
    if loop.kind == "while":
        test = loop.test
        if isinstance(test, E.Const):
            return f"while {test.value!r}"
        if isinstance(test, E.Unknown) and test.kind == "Not" and isinstance(test.children[0], E.Name):
            return f"while not {test.children[0].id}"
        if isinstance(test, E.Compare) and isinstance(test.left, E.Name) and test.ops == ("Is",):
            return f"while {test.left.id} is None"
        return "while ..."
    func = E.dotted(loop.test.func) if isinstance(loop.test, E.Call) else None
    return f"for {loop.target or '...'} in {func or '...'}(...)"


def _policy_name(retry) -> str:
    if retry.kind == "retrying":
        return f"`{retry.policy.func.id if hasattr(retry.policy.func, 'id') else 'Retrying'}(...)`" if retry.policy is not None else "`Retrying`"
    code = retry.code.split("(", 1)[0].strip() if retry.code else retry.library
    return f"`@{code}`"
