"""What rules receive: the linked project and the facts derived from it, each built once on first use."""

from __future__ import annotations

from functools import cached_property

from llmlint.finding import Location
from llmlint.index import MODULE_SCOPE, Span
from llmlint.project import Project


class Analysis:
    def __init__(self, project: Project, displays: dict[str, str]):
        self.project = project
        self._displays = displays  # absolute path -> path shown to the user

    @cached_property
    def model_calls(self):
        from llmlint.inventory import find_model_calls

        return find_model_calls(self.project)

    @cached_property
    def callgraph(self):
        from llmlint.callgraph import build_callgraph

        return build_callgraph(self.project)

    @cached_property
    def model_call_functions(self) -> set:
        """(path, qualname) of every function that makes a model call directly."""
        return {(c.module.path, c.function.qualname) for c in self.model_calls}

    @cached_property
    def reaches_model(self) -> set:
        """(path, qualname) of every function from which a model call can be reached."""
        from llmlint.callgraph import reaching

        return reaching(self.callgraph, self.model_call_functions)

    def display(self, path: str) -> str:
        return self._displays.get(path, path)

    def location(self, path: str, node) -> Location:
        """A Location for an index Span or an exprs.Call."""
        if isinstance(node, Span):
            return Location(self.display(path), node.line, node.col, node.end_line, node.end_col)
        return Location(self.display(path), node.line, node.col, node.end_line, node.end_col)

    def describe_function(self, path: str, qualname: str) -> str:
        name = "module level" if qualname == MODULE_SCOPE else f"{qualname}()"
        return f"{name} in {self.display(path)}"
