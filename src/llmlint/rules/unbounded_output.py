"""unbounded-output: see rules/LLM102-unbounded-output.md."""

from __future__ import annotations

from llmlint.fixes import output_cap_fix
from llmlint.knowledge.handling import in_test_module
from llmlint.knowledge.modelcalls import is_generation_api
from llmlint.results.finding import Related
from llmlint.ruleset.rule import Rule, as_written

# APIs whose output cap sits inside a JSON body or a provider-specific blob the analysis does not open.
OPAQUE_APIS = {"bedrock.invoke_model"}


class UnboundedOutput(Rule):
    def check(self, analysis):
        for call in analysis.model_calls:
            if call.family.is_http:  # a raw request: capped in its JSON body, where the endpoint says
                # (not in tests: an integration test posting to the application's own endpoint is not its traffic)
                if call.http_caps and "max_tokens" not in call.settings and not in_test_module(analysis.project, call.module.path):
                    yield self._raw_request(analysis, call)
                continue
            family = call.model_family
            if family.requires_max_tokens or not family.max_tokens_args or call.api in OPAQUE_APIS:
                continue
            if family.capped_models and (call.model or "").startswith(family.capped_models):
                continue
            if (not is_generation_api(call.api) and call.model_obj is None) or "max_tokens" in call.settings:
                continue
            if call.opaque_call or call.opaque_client:
                continue  # **kwargs from elsewhere may carry the cap
            if call.client is not None and call.client.ctor is None and not call.client.parts:
                continue  # a model object passed in: its construction is not visible
            message = f"`{as_written(call)}` sets no cap on output tokens ({', '.join('`' + k + '`' for k in family.max_tokens_args[:3])})"
            fix = f"cap the answer at the longest you need: pass `{family.cap_hint}` on this call or its client"
            related = []
            where = call.client_ctor_location()
            if where is not None:
                related.append(Related(analysis.location(*where), "model client created here"))
            yield self.report(analysis.location(call.module.path, call.call), message, fix, related=related, autofixes=output_cap_fix(analysis, call),
                              api=call.api)

    def _raw_request(self, analysis, call):
        cap = call.http_caps[0]
        named = " or ".join("`" + ".".join(path) + "`" for path in call.http_caps)
        message = f"the request `{as_written(call)}` sends a JSON body with no cap on output tokens ({named})"
        example = f'"{cap[0]}": {{"{cap[1]}": 512}}' if len(cap) == 2 else f'"{cap[0]}": 512'
        fix = f"add `{example}` to the request body"
        return self.report(analysis.location(call.module.path, call.call), message, fix, api=call.api)
