"""Memoised questions that may depend on each other: the resolver's answers, kept so that they do not depend on the
order in which the questions were asked (tabling, as Datalog engines and Pysa's fixpoint over call-graph cycles do it).

A question met again while it is being worked out (a cycle: a class that hands its own client to a copy of itself)
gets a stand-in: None, or in a second round the answer the first gave. Whatever was worked out with a stand-in is
provisional: it is reused only until the outermost question of its cycle (the head) is done. The head is then worked
out once more from the first round's answers; when every stand-in given in that round is the answer found (a
fixpoint), the head and its cycle are kept. When not (a value that grows each round, as `llm = llm.bind(...)` read at
its own line does), only the head is kept, with its first answer, and the others are worked out again when asked.
An answer cut short by a depth bound is kept for askers at that depth or deeper only: a question asked with more
budget works it out again.
"""

from __future__ import annotations

MISSING = object()


class _Frame:
    """A question being worked out: its place on the stack, the lowest place of a question it met again (its own
    place when none), whether a depth bound cut it, and where its round's provisional answers and stand-ins begin."""

    __slots__ = ("place", "low", "cut", "first_pending", "first_hit")

    def __init__(self, place: int, first_pending: int, first_hit: int):
        self.place = self.low = place
        self.cut = False
        self.first_pending = first_pending
        self.first_hit = first_hit


class Table:
    def __init__(self):
        self.done: dict = {}  # question -> its answer, final
        self._cut: dict = {}  # question -> (answer, depth): an answer cut short, final for askers at that depth or deeper
        self._stack: list[_Frame] = []
        self._active: dict = {}  # question being worked out -> its place on the stack
        self._pending: dict = {}  # question -> (answer, low, depth when cut else None), provisional until its head is done
        self._pending_order: list = []  # questions of _pending in the order answered
        self._hits: list = []  # (question, stand-in given) for each question met again while it was worked out
        self._guesses: dict = {}  # question of a cycle -> its answer in the previous round (the stand-in it gives)

    def ask(self, question, depth: int, work_out, *args):
        """The answer to `question`, asked at `depth`: memoised, else `work_out(*args)`."""
        answer = self.done.get(question, MISSING)
        if answer is not MISSING:
            return answer
        stack = self._stack
        place = self._active.get(question)
        if place is not None:  # met again while being worked out
            top = stack[-1]
            if place < top.low:
                top.low = place
            answer = self._guesses.get(question)
            self._hits.append((question, answer))
            return answer
        pending = self._pending.get(question)
        if pending is not None and (pending[2] is None or depth >= pending[2]):
            if stack:
                top = stack[-1]
                top.low = min(top.low, pending[1])
                top.cut = top.cut or pending[2] is not None
            return pending[0]
        cut = self._cut.get(question)
        if cut is not None and depth >= cut[1]:
            self.cut_short()
            return cut[0]
        frame = _Frame(len(stack), len(self._pending_order), len(self._hits))
        stack.append(frame)
        self._active[question] = frame.place
        try:
            answer = work_out(*args)
            settled = frame.low < frame.place or self._settled(question, answer, frame)
            if not settled:  # it met itself and used a stand-in its answer now contradicts: once more from this round
                first = (answer, frame.cut)
                self._next_round(question, answer, frame)
                answer = work_out(*args)
                settled = frame.low < frame.place or self._settled(question, answer, frame)
                if not settled:  # no fixpoint (a value that grows each round): the first round's answer, alone
                    answer, frame.cut = first
        except BaseException:
            stack.pop()
            del self._active[question]
            if not stack:  # nothing provisional outlives the question that started it
                self._forget_provisional()
            raise
        stack.pop()
        del self._active[question]
        cut_depth = depth if frame.cut else None
        if stack:
            below = stack[-1]
            below.low = min(below.low, frame.low)
            below.cut = below.cut or frame.cut
        if frame.low < frame.place:  # in a cycle an outer question heads: provisional until that one is done
            self._pending[question] = (answer, frame.low, cut_depth)
            self._pending_order.append(question)
            return answer
        for member in self._pending_order[frame.first_pending:]:  # the head is done: so is its cycle
            kept = self._pending.pop(member, None)
            if kept is not None and settled:
                self._keep(member, kept[0], kept[2])
            self._guesses.pop(member, None)
        del self._pending_order[frame.first_pending:]
        del self._hits[frame.first_hit:]
        self._guesses.pop(question, None)
        self._keep(question, answer, cut_depth)
        return answer

    def cut_short(self) -> None:
        """Tell the question being worked out that a depth bound cut its answer short."""
        if self._stack:
            self._stack[-1].cut = True

    def _keep(self, question, answer, cut_depth) -> None:
        if cut_depth is None:
            self.done[question] = answer
            self._cut.pop(question, None)
        else:
            self._cut[question] = (answer, cut_depth)

    def _settled(self, head, answer, frame: _Frame) -> bool:
        """Whether every stand-in given in this round is the answer its question has now."""
        for question, given in self._hits[frame.first_hit:]:
            now = answer if question == head else self._pending.get(question, (MISSING,))[0]
            if now is not MISSING and now != given:
                return False
        return True

    def _next_round(self, head, answer, frame: _Frame) -> None:
        """Forget the round's provisional answers, each becoming the stand-in its question gives in the next round."""
        self._guesses[head] = answer
        for member in self._pending_order[frame.first_pending:]:
            kept = self._pending.pop(member, None)
            if kept is not None:
                self._guesses[member] = kept[0]
        del self._pending_order[frame.first_pending:]
        del self._hits[frame.first_hit:]
        frame.low, frame.cut = frame.place, False

    def _forget_provisional(self) -> None:
        self._pending.clear()
        self._pending_order.clear()
        self._hits.clear()
        self._guesses.clear()
