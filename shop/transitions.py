"""The one mechanism behind every table of allowed moves (Order, Payment, Refund, and later ones).

Each stateful model declares its table once (``orders/lifecycle.py``, ``payments/lifecycle.py``)
as ``{source: {targets}}`` and wraps it in a :class:`Lifecycle`. ``Lifecycle.move`` is the only
way a status changes: it checks the table, sets the field, saves with ``update_fields`` and calls
the lifecycle's ``on_move`` to write the typed event (source, target, actor). A move that is not
in the table raises :class:`TransitionNotAllowed` and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping


class TransitionNotAllowed(Exception):
    """A move not in the table was attempted; nothing was changed."""

    code = "transition_not_allowed"

    def __init__(self, obj, to: str, *, field: str = "status", reason: str = ""):
        self.obj, self.source, self.target = obj, getattr(obj, field), to
        self.order = obj  # historical name: most callers move orders
        text = f"{type(obj).__name__} {obj}: cannot move from {self.source!r} to {to!r}"
        super().__init__(f"{text}: {reason}" if reason else text)


class Lifecycle:
    """A table of allowed moves for one model's status field."""

    def __init__(
        self,
        table: Mapping[str, Iterable[str]],
        *,
        field: str = "status",
        on_move: Callable[..., object] | None = None,
    ):
        self.table: dict[str, frozenset[str]] = {source: frozenset(targets) for source, targets in table.items()}
        self.field = field
        self.on_move = on_move

    def can_move(self, obj, to: str) -> bool:
        return to in self.table.get(getattr(obj, self.field), frozenset())

    def check(self, obj, *, to: str) -> None:
        if not self.can_move(obj, to):
            raise TransitionNotAllowed(obj, to, field=self.field)

    def sources_of(self, target: str) -> frozenset[str]:
        """Every status from which ``target`` can be reached in one move."""
        return frozenset(source for source, targets in self.table.items() if target in targets)

    def move(self, obj, to: str, *, actor=None, fields: Iterable[str] = (), **event) -> str:
        """Check, set, save (``update_fields``: the status plus ``fields``) and record the move.

        The caller holds the row's lock. Returns the source status.
        """
        return self.move_many([obj], to, actor=actor, fields=fields, **event)[0]

    def move_many(self, objs: list, to: str, *, actor=None, fields: Iterable[str] = (), **event) -> list[str]:
        """``move`` for several rows of one model (a periodic sweep's batch, issue #14): every move is
        checked before any is made, then one UPDATE (``bulk_update`` of the status plus ``fields``) and
        the moves recorded in order. The caller holds the rows' locks. Returns the sources in order."""
        for obj in objs:
            self.check(obj, to=to)
        sources = [getattr(obj, self.field) for obj in objs]
        for obj in objs:
            setattr(obj, self.field, to)
        if len(objs) == 1:
            objs[0].save(update_fields=[self.field, *fields])  # save(): the model's own save() runs
        elif objs:
            type(objs[0])._default_manager.bulk_update(objs, [self.field, *fields])
        if self.on_move is not None:
            for obj, source in zip(objs, sources, strict=True):
                self.on_move(obj, source=source, target=to, actor=actor, **event)
        return sources
