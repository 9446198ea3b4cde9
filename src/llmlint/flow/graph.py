"""Facts that travel along the call graph rather than through values: an error escaping from an entry point into
what it calls, the event loop an `async def` runs its synchronous callees on.

`propagate` walks breadth first from seed functions into the callees whose call sites let the fact cross, and into
the methods overriding a method it reaches (a call of the method may run them); `chain` reads back the way a
function was reached.
"""

from __future__ import annotations

from collections import deque


def propagate(graph, seeds, crosses, blocked=None, overrides=None) -> dict:
    """{node: (the seed it was reached from, the node before it, or None for a seed)}. A fact crosses from a caller
    into a callee when `crosses(caller, callee, site)` holds for one of the edge's call sites; it never enters a node
    `blocked(node)` holds for; `overrides` maps a method's node to the nodes of the methods overriding it."""
    blocked = blocked or (lambda node: False)
    overrides = overrides or {}
    found, queue = {}, deque()
    for seed in seeds:
        found[seed] = (seed, None)
        queue.append(seed)
    while queue:
        caller = queue.popleft()
        for callee in graph.successors(caller):
            if callee in found or blocked(callee):
                continue
            if any(crosses(caller, callee, site) for site in graph.edges[caller, callee]["sites"]):
                found[callee] = (found[caller][0], caller)
                queue.append(callee)
        for override in overrides.get(caller, ()):
            if override not in found and not blocked(override):
                found[override] = (found[caller][0], caller)
                queue.append(override)
    return found


def chain(found: dict, node) -> list:
    """[node, the node before it, ..., its seed] for a node `propagate` reached; [] for one it did not."""
    out = []
    while node is not None and node in found:
        out.append(node)
        node = found[node][1]
    return out
