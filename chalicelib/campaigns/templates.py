"""Subject and body templates: Jinja2 in its sandbox, checked on save, rendered per contact.

A template sees the contact's ``first_name``, ``last_name``, ``email``,
``phone`` and ``extra`` (``{{ extra.company }}``); a field the contact lacks
renders empty. Jinja2 is imported on first use: the API's cold start never
pays for it.

Every render runs on a budget, since one worker renders everyone's
campaigns and a template is code its author controls:
- ``range`` yields at most :data:`MAX_RANGE_ITEMS` items per render in all
  (nested loops multiply, the budget does not);
- ``*`` and ``**`` refuse results bigger than :data:`MAX_BODY` characters
  (or digits), and ``lipsum`` is gone;
- the output stops at :data:`MAX_BODY` characters (:data:`MAX_SUBJECT` for
  a subject, whose line breaks become spaces: no header injection);
- a wall-clock backstop of :data:`RENDER_SECONDS` catches loops the counters
  cannot see (over a long string, say). It is a ``SIGALRM`` timer, armed only
  in the main thread (where Lambda runs handlers): it costs two system calls
  a render, where a watchdog thread could not interrupt the loop at all.
A render over budget fails that one delivery with :class:`RenderError`.
"""

from __future__ import annotations

import math
import re
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chalicelib.errors import ValidationError

if TYPE_CHECKING:
    from jinja2 import Template
    from jinja2.nodes import Template as TemplateNode
    from jinja2.sandbox import SandboxedEnvironment

MAX_SUBJECT = 998  # the longest line an email header may have
MAX_BODY = 100_000
MAX_RANGE_ITEMS = 10_000
RENDER_SECONDS = 2.0
# Header line breaks: CR, LF and the other characters str.splitlines() breaks on.
_LINE_BREAKS = re.compile(r"[\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")
# What a trial render at save time sees: every field filled in.
_SAMPLE = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "phone": "+12025550100",
    "extra": {},
}


class RenderError(Exception):
    """A template that failed for one contact (an unsafe call, a bad filter argument …)."""


class BudgetError(RenderError):
    """A render that went over its budget of loop items, value size, output or time."""


class _Budget:
    """What one render may still spend; a fresh one per render."""

    def __init__(self) -> None:
        self.range_items = MAX_RANGE_ITEMS

    def range(self, *args: int) -> range:
        items = range(*args)
        self.range_items -= len(items)
        if self.range_items < 0:
            raise BudgetError(f"range() over {MAX_RANGE_ITEMS} items in one message")
        return items


def _sized(value: Any) -> Any:
    size = len(value) if isinstance(value, str | list | tuple) else 0
    if size > MAX_BODY:
        raise BudgetError(f"a value of {size} items (at most {MAX_BODY})")
    return value


@lru_cache(maxsize=1)
def _environment() -> SandboxedEnvironment:
    from jinja2 import ChainableUndefined
    from jinja2.exceptions import SecurityError
    from jinja2.runtime import Context
    from jinja2.sandbox import SandboxedEnvironment

    class BudgetedSandbox(SandboxedEnvironment):
        intercepted_binops = frozenset(["*", "**"])

        def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
            if operator == "**" and isinstance(left, int | float) and isinstance(right, int):
                # The digits, known before computing: 10 ** 10 ** 6 is never computed.
                digits = abs(right) * math.log10(abs(left)) if abs(left) > 1 else 0
                if digits > MAX_BODY:
                    raise BudgetError(f"a number of about {int(digits)} digits")
            if operator == "*":
                # Checked before multiplying: 'y' * 10**9 is never built.
                for count, seq in ((left, right), (right, left)):
                    sized = isinstance(seq, str | list | tuple) and isinstance(count, int)
                    size = len(seq) * count if sized else 0
                    if size > MAX_BODY:
                        raise BudgetError(f"a value of {size} items")
            return _sized(super().call_binop(context, operator, left, right))

        def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
            # The sandbox's default renders an unsafe attribute as empty, which
            # would send a blank message: refuse it instead.
            raise SecurityError(
                f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe."
            )

    # Plain text out (no HTML escaping); a missing field or key is empty,
    # not an error, since contacts rarely all have the same extra fields.
    environment = BudgetedSandbox(autoescape=False, undefined=ChainableUndefined)
    del environment.globals["lipsum"]  # up to any number of paragraphs; no use in a campaign
    return environment


def check(source: str, field: str) -> None:
    """Refuse a template that would fail every delivery, naming ``field``.

    A syntax error, an unknown filter or test, ``include``/``extends``/
    ``import`` (there are no other templates), and anything a trial render
    with a sample contact finds unsafe or over budget. Errors that depend on
    the contact's data (``{{ extra.visits + 1 }}``) are left to each delivery.
    """
    from jinja2 import TemplateSyntaxError
    from jinja2.exceptions import SecurityError

    try:
        tree = _environment().parse(source)
    except TemplateSyntaxError as exc:
        raise ValidationError.for_field(
            field, f"Template error on line {exc.lineno}: {exc.message}"
        ) from None
    problem = _unsupported(tree)
    if problem:
        raise ValidationError.for_field(field, problem)
    try:
        _render(source, _SAMPLE, MAX_SUBJECT if field == "subject" else MAX_BODY)
    except RenderError as exc:
        if isinstance(exc, BudgetError) or isinstance(exc.__cause__, SecurityError):
            raise ValidationError.for_field(field, f"Template refused: {exc}") from None


def _unsupported(tree: TemplateNode) -> str | None:
    from jinja2 import nodes

    environment = _environment()
    for node in tree.find_all((nodes.Filter, nodes.Test, nodes.Include, nodes.Extends)):
        if isinstance(node, nodes.Filter) and node.name not in environment.filters:
            return f"Template error on line {node.lineno}: no filter named {node.name!r}."
        if isinstance(node, nodes.Test) and node.name not in environment.tests:
            return f"Template error on line {node.lineno}: no test named {node.name!r}."
        if isinstance(node, nodes.Include | nodes.Extends):
            kind = "include" if isinstance(node, nodes.Include) else "extends"
            return f"Template error on line {node.lineno}: {kind} is not available."
    for imported in tree.find_all((nodes.Import, nodes.FromImport)):
        return f"Template error on line {imported.lineno}: import is not available."
    return None


@lru_cache(maxsize=64)
def _compiled(source: str) -> Template:
    return _environment().from_string(source)


def render(source: str, fields: dict[str, Any]) -> str:
    """``source`` rendered with a contact's fields; :class:`RenderError` says what failed."""
    return _render(source, fields, MAX_BODY)


def render_subject(source: str, fields: dict[str, Any]) -> str:
    """An email subject: one line (breaks become spaces), at most :data:`MAX_SUBJECT` chars."""
    subject = _LINE_BREAKS.sub(" ", _render(source, fields, MAX_SUBJECT * 4))
    if len(subject) > MAX_SUBJECT:
        raise BudgetError(f"the subject has {len(subject)} characters (at most {MAX_SUBJECT})")
    return subject


def _render(source: str, fields: dict[str, Any], limit: int) -> str:
    if "{" not in source:
        return source
    try:
        template = _compiled(source)
        # A per-render range shadows the sandbox's own, which caps each call only.
        context = {**fields, "range": _Budget().range}
        parts: list[str] = []
        size = 0
        with _deadline(RENDER_SECONDS):
            for part in template.generate(context):
                size += len(part)
                if size > limit:
                    raise BudgetError(f"the message is over {limit} characters")
                parts.append(part)
        return "".join(parts)
    except RenderError:
        raise
    except Exception as exc:
        # Anything a template can do wrong at render time (SecurityError,
        # TypeError in a filter, a syntax error saved before this check)
        # belongs to this one contact's delivery, never to the batch.
        raise RenderError(f"{type(exc).__name__}: {exc}") from exc


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`BudgetError` in the block after ``seconds`` (main thread, no other timer)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        yield
        return
    if signal.getitimer(signal.ITIMER_REAL)[0]:
        yield  # someone else's timer is running: leave it alone
        return

    def expire(signum: int, frame: object) -> None:
        raise BudgetError(f"the render took over {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def contact_fields(
    first_name: str, last_name: str, email: str | None, phone: str | None, extra: dict[str, Any]
) -> dict[str, Any]:
    """The names a template may use, from a contact's values."""
    return {
        "first_name": first_name,
        "last_name": last_name,
        "email": email or "",
        "phone": phone or "",
        "extra": dict(extra or {}),
    }
