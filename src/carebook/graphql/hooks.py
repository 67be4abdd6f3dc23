"""Strawberry's extension hooks, wrapped once per extension class instead of once per request.

Strawberry enters each stage of a request (operation, parsing, validation, execution) through a
context manager that asks every extension of the request whether it has a hook for the stage
(``inspect``'s generator checks, a class look-up) and wraps each hook it finds in a new
``contextlib`` decorator (``functools.update_wrapper`` each time). With this schema's eight
extensions that is 32 checks and 8 decorations per request (36 and 9 in production), for answers
that depend only on the extension's class: about a tenth of the CPU of a short read (py-spy of the
``users`` first page, docs/performance.md, "The first page's CPU").

Here the answer is worked out once per schema, stage and tuple of the request's extension
classes (:class:`Plans`, kept by the schema: a class made for each request goes with it), and
each request only binds the hooks its stages run. The hooks run exactly as Strawberry runs
them: the same kinds (generator, async generator, plain or coroutine function), in the same
order, entered and left through Strawberry's own exit stacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
    WrappedHook,
)
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext

# (context manager factory taking the extension, whether it is asynchronous), or None: the
# class has no hook of its own for the stage.
_Maker = tuple[Callable[[SchemaExtension], Any], bool] | None


def _maker(cls: type[SchemaExtension], hook_name: str) -> _Maker:
    """How to enter ``cls``'s hook for a stage, as Strawberry's ``get_hook`` decides, for the
    class instead of an instance (decided once per schema and class: a hook replaced on the
    class afterwards is not seen; classes are not patched while serving)."""
    hook = getattr(cls, hook_name)
    if hook is getattr(SchemaExtension, hook_name) or not hook:  # None switches a hook off
        return None
    if inspect.isgeneratorfunction(hook):
        return contextlib.contextmanager(hook), False
    if inspect.isasyncgenfunction(hook):
        return contextlib.asynccontextmanager(hook), True
    if not callable(hook):
        raise ValueError(f"Hook {hook_name} on {cls} must be callable, received {hook!r}")
    if asyncio.iscoroutinefunction(hook):  # as Strawberry's check (marked functions too)
        return functools.partial(_awaiting, hook), True
    return functools.partial(_calling, hook), False


@contextlib.asynccontextmanager
async def _awaiting(hook: Any, extension: SchemaExtension) -> AsyncIterator[None]:
    """A coroutine hook: awaited on entering the stage, as Strawberry's ``from_callable``."""
    await hook(extension)
    yield


@contextlib.contextmanager
def _calling(hook: Any, extension: SchemaExtension) -> Iterator[None]:
    """A plain function hook: called on entering the stage, as Strawberry's ``from_callable``."""
    hook(extension)
    yield


# A request's extensions are instances of the same classes in the same order every time (the
# schema's factories): which of them have a hook for a stage is kept by that tuple of classes,
# so a stage binds only the hooks it runs instead of asking each extension (32 questions a
# request with eight extensions, about 3 % of a ``user(id)``'s CPU). The table belongs to the
# schema (:class:`Plans`): it holds the classes, and goes with the schema that made them.
_Plan = tuple[tuple[int, Callable[[SchemaExtension], Any], bool], ...]
# Different tuples one schema may see (a factory may make a class per request): past this its
# table starts again, so it stays small.
_PLANS_KEPT = 64


class Plans:
    """A schema's stage plans, by (stage, classes of the request's extensions)."""

    def __init__(self) -> None:
        self._plans: dict[tuple[str, tuple[type[SchemaExtension], ...]], _Plan] = {}

    def plan(self, hook_name: str, classes: tuple[type[SchemaExtension], ...]) -> _Plan:
        """(position, context manager factory, asynchronous) of each class with the hook."""
        key = (hook_name, classes)
        plan = self._plans.get(key)
        if plan is None:
            if len(self._plans) >= _PLANS_KEPT:
                self._plans.clear()
            found = ((i, _maker(cls, hook_name)) for i, cls in enumerate(classes))
            plan = self._plans[key] = tuple((i, m[0], m[1]) for i, m in found if m is not None)
        return plan


class _KnownHooks:
    """A stage's hooks from the schema's plan (mixed into Strawberry's stage managers, whose
    ``get_hook`` it then never calls)."""

    HOOK_NAME: str
    hooks: list[WrappedHook]
    default_hook: Any

    def __init__(
        self, extensions: list[SchemaExtension], plans: Plans, classes: tuple[type[Any], ...]
    ) -> None:
        # As Strawberry's __init__: the hooks of the extensions that have one, in their order.
        self.default_hook = getattr(SchemaExtension, self.HOOK_NAME)
        plan = plans.plan(self.HOOK_NAME, classes)
        self.hooks = [
            WrappedHook(extensions[i], functools.partial(make, extensions[i]), is_async)
            for i, make, is_async in plan
        ]


class _Operation(_KnownHooks, OperationContextManager):
    pass


class _Validation(_KnownHooks, ValidationContextManager):
    pass


class _Parsing(_KnownHooks, ParsingContextManager):
    pass


class _Executing(_KnownHooks, ExecutingContextManager):
    pass


class KnownHooksRunner(SchemaExtensionsRunner):
    """Strawberry's runner, its stages entered through the schema's plans."""

    def __init__(
        self,
        execution_context: ExecutionContext,
        extensions: list[SchemaExtension],
        plans: Plans,
    ) -> None:
        super().__init__(execution_context=execution_context, extensions=extensions)
        self.plans = plans
        self.classes = tuple(map(type, self.extensions))

    def operation(self) -> OperationContextManager:
        return _Operation(self.extensions, self.plans, self.classes)

    def validation(self) -> ValidationContextManager:
        return _Validation(self.extensions, self.plans, self.classes)

    def parsing(self) -> ParsingContextManager:
        return _Parsing(self.extensions, self.plans, self.classes)

    def executing(self) -> ExecutingContextManager:
        return _Executing(self.extensions, self.plans, self.classes)
