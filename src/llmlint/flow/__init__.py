"""The value-flow core: which values reach an expression, asked backwards from it, by one walk for every query.

`core.ValueFlow(analysis, query)` is the walk. It follows a function's local bindings (`reaching.py`: the last
plain binding before a use and the additions after it), attributes and subscripts, string building, comprehensions,
`self.x` set in any method of the class, enclosing scopes and module globals, framework state stores, and the
project's own functions through per-function summaries (what a function returns in terms of its parameters),
composed at each call and followed back from a parameter to the arguments of the project's call sites
(`calls.py`). A `core.Query` configures it, as a CodeQL configuration does: which calls are sources, how a value
passes through a call, an attribute or a subscript, and which names and conditions are barriers. The queries are:

- `knowledge/modeloutput.ModelOutput`: model output into `eval`, `json.loads`, templates (barriers: validators, allow-lists);
- `knowledge/prompttext.PromptText` (and `ProgramInput`): a value (a file read, fetched documents) into a model call's prompt, unbounded
  (barriers: slices, one element, bounding calls, a condition that measures it);
- `knowledge/retrieval.FetchedDocuments`: the documents a retrieval call fetched.

`graph.py` carries facts along the call graph instead (an error escaping from an entry point, the event loop a sync
callee runs on).
"""
