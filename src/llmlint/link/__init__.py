"""Linking: the project's module indexes tied together (imports, scopes, values), the call graph, and the
Analysis rules receive."""
