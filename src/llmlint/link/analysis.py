"""What rules receive: the linked project and the facts derived from it, each built once on first use."""

from __future__ import annotations

from functools import cached_property

from llmlint.link.project import Project
from llmlint.results.finding import Location


class Analysis:
    def __init__(self, project: Project, displays: dict[str, str]):
        self.project = project
        self._displays = displays  # absolute path -> path shown to the user

    @cached_property
    def model_calls(self):
        from llmlint.knowledge.inventory import find_model_calls

        return find_model_calls(self.project)

    @cached_property
    def callgraph(self):
        from llmlint.link.callgraph import build_callgraph

        return build_callgraph(self.project)

    @cached_property
    def model_call_functions(self) -> set:
        """(path, qualname) of every function that makes a model call directly."""
        return {(c.module.path, c.function.qualname) for c in self.model_calls}

    @cached_property
    def reaches_model(self) -> set:
        """(path, qualname) of every function from which a model call can be reached."""
        from llmlint.link.callgraph import reaching

        return reaching(self.callgraph, self.model_call_functions)

    @cached_property
    def graph_runs(self) -> list:
        """[(GraphRun, the model calls its nodes reach)] for every run of a compiled LangGraph graph whose nodes call a
        model (callgraph.GraphRun): a model call site of its own, as a chain built from a model is."""
        from llmlint.link.callgraph import reachable_from

        calls_by_function: dict = {}
        for call in self.model_calls:
            calls_by_function.setdefault((call.module.path, call.function.qualname), []).append(call)
        found = []
        for run in self.callgraph.graph.get("graph_runs", ()):
            reached = reachable_from(self.callgraph, run.nodes)
            calls = sorted((c for node in reached for c in calls_by_function.get(node, ())),
                           key=lambda c: (c.module.path, c.call.line, c.call.col))
            if calls:
                found.append((run, calls))
        return found

    @cached_property
    def method_overrides(self) -> dict:
        """{(path, qualname) of a method: the overriding methods of project subclasses} (callgraph.method_overrides)."""
        from llmlint.link.callgraph import method_overrides

        return method_overrides(self.project)

    @cached_property
    def prompts(self):
        """Prompt assembly: the text each model call sends, as far as it can be known (prompts.PromptAssembly)."""
        from llmlint.knowledge.prompts import PromptAssembly

        return PromptAssembly(self)

    @cached_property
    def handling(self):
        """Which excepts stop provider errors and which functions let them escape (handling.Handling)."""
        from llmlint.knowledge.handling import Handling

        return Handling(self)

    @cached_property
    def observability(self):
        """Project-wide instrumentation and the functions whose model calls are observed (observability.Observability)."""
        from llmlint.knowledge.observability import Observability

        return Observability(self)

    @cached_property
    def event_loop(self) -> dict:
        """{(path, qualname) of a function that runs on an event loop: (its async def, its caller)} (eventloop)."""
        from llmlint.knowledge.eventloop import event_loop_functions

        return event_loop_functions(self)

    @cached_property
    def model_call_at(self) -> dict:
        """{(path, line, col) of a call: the ModelCall made there}."""
        return {(c.module.path, c.call.line, c.call.col): c for c in self.model_calls}

    @cached_property
    def model_reaching_sites(self) -> dict:
        """{(path, line, col) of a call site that makes a model call or calls (or passes as a callback) a project
        function that reaches one: the ModelCall, or the callee's (path, qualname)}."""
        from llmlint.link.callgraph import sites_into

        found = sites_into(self.callgraph, self.reaches_model)
        found.update(self.model_call_at)
        return found

    def site_reaches_model(self, path: str, site) -> bool:
        return (path, site.call.line, site.call.col) in self.model_reaching_sites

    def model_path(self, node) -> tuple:
        """(call path from `node` to the nearest function with a model call, that function's first ModelCall);
        ([], None) when `node` reaches none."""
        from llmlint.link.callgraph import path_to

        if node not in self.reaches_model:
            return [], None
        path = path_to(self.callgraph, node, self.model_call_functions)
        if not path:
            return [], None
        end = path[-1]
        call = next((c for c in self.model_calls if (c.module.path, c.function.qualname) == end), None)
        return path, call

    @cached_property
    def flow_tables(self) -> dict:
        """{(path, qualname): the function's local bindings}, shared by every walk of the value-flow core (flow/)."""
        return {}

    @cached_property
    def output_flow(self):
        """Where model output goes (knowledge/modeloutput.OutputFlow): flows(expr, ctx, line) -> the model calls reaching it."""
        from llmlint.knowledge.modeloutput import OutputFlow

        return OutputFlow(self)

    def display(self, path: str) -> str:
        return self._displays.get(path, path)

    def location(self, path: str, node) -> Location:
        """A Location for an index Span or an exprs.Call."""
        return Location(self.display(path), node.line, node.col, node.end_line, node.end_col)
