"""Subject and body templates: Jinja2 in its sandbox, checked on save, rendered per contact.

A template sees the contact's ``first_name``, ``last_name``, ``email``,
``phone`` and ``extra`` (``{{ extra.company }}``); a field the contact lacks
renders empty. Jinja2 is imported on first use: the API's cold start never
pays for it.

Every render runs on a budget, since one worker renders everyone's
campaigns and a template is code its author controls:
- loops (``for`` over anything, ``range`` included) take at most
  :data:`MAX_LOOP_ITEMS` items per render in all (nested loops multiply,
  the budget does not);
- no value may grow past :data:`MAX_BODY` characters (or digits, or items
  weighed by what they hold): ``*``, ``**``, ``+``, ``~``, ``%``, and the
  filters and string methods that grow text (``join``, ``replace``,
  ``center``, ``indent``, ``format`` …) are measured before they build
  anything, and every filter, call and ``{{ }}`` value is checked after;
- a render may make at most :data:`MAX_PRODUCED` characters in all: every
  value an operator, filter or call makes and every ``{{ }}`` value is
  counted, wherever it is kept (a list, a ``set`` block, the message);
  ``lipsum`` is gone;
- the output stops at :data:`MAX_BODY` characters (:data:`MAX_SUBJECT` for
  a subject, whose line breaks become spaces: no header injection);
- a render stops after :data:`RENDER_SECONDS`: every loop turn and call
  looks at the clock (in any thread), and in the main thread (where Lambda runs
  handlers) a ``SIGALRM`` timer also stops work outside loops; it costs two
  system calls a render, where a watchdog thread could not interrupt at all.
A render over budget fails that one delivery with :class:`RenderError`.
"""

from __future__ import annotations

import functools
import math
import re
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chalicelib.errors import ValidationError

if TYPE_CHECKING:
    from jinja2 import Template
    from jinja2.nodes import Template as TemplateNode
    from jinja2.sandbox import SandboxedEnvironment

MAX_SUBJECT = 998  # the longest line an email header may have
MAX_BODY = 100_000
MAX_LOOP_ITEMS = 10_000
MAX_PRODUCED = 1_000_000
RENDER_SECONDS = 2.0
# The names a template may use at its top level: the contact's fields, and
# the few Jinja2 globals that make no text of their own.
FIELDS = ("first_name", "last_name", "email", "phone", "extra")
_GLOBALS = ("range", "dict", "cycler", "joiner", "namespace")
# Header line breaks: CR, LF and the other characters str.splitlines() breaks on.
_LINE_BREAKS = re.compile(r"[\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")
# Widths and precisions in a %-format or a str.format spec ("%99999s",
# "{0:>99999}", "{:.5f}"): each pads its field, so their sum bounds the text.
_FORMAT_SIZES = re.compile(
    r"%[-#0 +]*(\*|\d*)(?:\.(\*|\d*))?|\{[^{}]*:[^{}\d]*(\d*)(?:\.(\d+))?[^{}]*\}"
)
_NESTED_SPEC = re.compile(r"\{[^{}]*:[^{}]*\{")
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


class _OutputLimitError(BudgetError):
    """The rendered text went past its limit (the subject's says so in its own words)."""


class EmptyMessageError(RenderError):
    """A message that rendered blank for this contact: it is never sent."""


class _Fields(dict[str, Any]):
    """``extra``: ``{{ extra.items }}`` is the contact's "items" field, never a dict method."""


class _Budget:
    """What one render may still spend; a fresh one per render.

    Loop items (``for``, ``range`` and recursive ``loop()`` together) and the
    clock bound the work; characters produced (every value an operator,
    filter or call makes, every ``{{ }}`` value, and a loop body's literal
    text each time round, wherever it is kept) bound the memory, since text
    assigned to a variable never reaches the streamed output's limit.
    """

    def __init__(self) -> None:
        self.loop_items = MAX_LOOP_ITEMS
        self.produced = MAX_PRODUCED
        self.deadline = time.monotonic() + RENDER_SECONDS

    def take_items(self, count: int) -> None:
        self.loop_items -= count
        if self.loop_items < 0:
            raise BudgetError(
                f"loops over {MAX_LOOP_ITEMS} items in one message (range() included)"
            )
        self.check_clock()

    def check_clock(self) -> None:
        # The clock as a counter sees it, in any thread: every loop turn and
        # every call looks, so slow work stops where no timer reaches (the
        # local stack renders in threads; see _deadline).
        if time.monotonic() > self.deadline:
            raise BudgetError(f"the render took over {RENDER_SECONDS:g} s")

    def produce(self, characters: int) -> None:
        self.produced -= characters
        if self.produced < 0:
            raise BudgetError(f"over {MAX_PRODUCED} characters made in one message")


_current: ContextVar[_Budget | None] = ContextVar("template_budget", default=None)


def _weight(value: Any, limit: int = MAX_BODY) -> int:
    """About how many characters ``value`` turns into as text, counted until over ``limit``.

    Containers count what they hold (a list of 10,000 references to one long
    string weighs 10,000 times the string). The walk stops after ``limit``
    steps, so a container that holds itself counts as over.
    """
    if isinstance(value, str | bytes | bytearray):
        return len(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value.bit_length() * 3 // 10 + 1  # about its decimal digits
    if not isinstance(value, list | tuple | dict | set | frozenset):
        return 1
    total = steps = 0
    pending: list[Any] = [value]
    while pending and total <= limit:
        item = pending.pop()
        steps += 1
        if steps > limit:
            return limit + 1
        if isinstance(item, str | bytes | bytearray):
            total += len(item)
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            pending.extend(item)
        else:
            total += _weight(item) if isinstance(item, int) else 1
    return total


def _bounded(value: Any, what: str = "a value") -> Any:
    """A value a call, filter or operator made: not too big, and charged to the render.

    Charging every value made (not only what reaches the message) bounds
    what a render can hold in all, however it is kept (a list appended to,
    a namespace); and every call looks at the clock.
    """
    weight = _weight(value)
    if weight > MAX_BODY:
        raise BudgetError(f"{what} of over {MAX_BODY} characters")
    budget = _current.get()
    if budget is not None:
        budget.produce(weight)
        budget.check_clock()
    return value


def _check_format(text: str | bytes) -> None:
    """Refuse a format whose fields would pad past the budget (widths are summed)."""
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    if "%" not in text and "{" not in text:
        return
    if _NESTED_SPEC.search(text):
        raise BudgetError("a format whose width comes from an argument")
    total = 0
    for match in _FORMAT_SIZES.finditer(text):
        for size in match.groups():
            if size == "*":
                raise BudgetError("a format whose width comes from an argument")
            total += int(size) if size else 0
    if total > MAX_BODY:
        raise BudgetError(f"a format padding to over {MAX_BODY} characters")


def _check_arguments(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """No call gets a huge number (a width, a count) or a huge value to work on."""
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_BODY:
            raise BudgetError(f"a number over {MAX_BODY} given to {name}()")
        if _weight(value) > MAX_BODY:
            raise BudgetError(f"a value of over {MAX_BODY} characters given to {name}()")


def _check_growth(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Filters and str methods whose result can be far longer than what they are given.

    ``args`` starts with the text worked on (a filter's value, a method's string).
    """
    if args and isinstance(args[0], bytes | bytearray):
        # Bytes (from encode()) grow as text does: measured as Latin-1 text.
        args = tuple(a.decode("latin-1") if isinstance(a, bytes | bytearray) else a for a in args)
    text = args[0] if args and isinstance(args[0], str) else None
    if text is None:
        return
    if name == "replace" and len(args) >= 3:
        old, new = str(args[1]), str(args[2])
        count = text.count(old) if old else len(text) + 1
        grown = len(text) + count * (len(new) - len(old))
    elif name == "indent":
        width = args[1] if len(args) > 1 else kwargs.get("width", 4)
        pad = len(width) if isinstance(width, str) else int(width or 0)
        grown = len(text) + (text.count("\n") + 1) * pad
    elif name == "wordwrap":
        width = args[1] if len(args) > 1 else kwargs.get("width", 79)
        wrap = args[3] if len(args) > 3 else kwargs.get("wrapstring") or "\n"
        grown = len(text) + (len(text) // max(int(width or 1), 1) + 1) * len(str(wrap))
    elif name == "expandtabs":
        size = args[1] if len(args) > 1 else kwargs.get("tabsize", 8)
        grown = len(text) + text.count("\t") * int(size or 0)
    elif name in ("format", "format_map"):
        _check_format(text)
        return
    elif name == "translate" and len(args) > 1 and isinstance(args[1], dict):
        longest = max((len(v) for v in args[1].values() if isinstance(v, str)), default=1)
        grown = len(text) * max(longest, 1)
    else:
        return
    if grown > MAX_BODY:
        raise BudgetError(f"{name}() would make over {MAX_BODY} characters")


def _joined(items: Any, glue: str) -> list[Any]:
    """What ``join`` will join, measured first (a generator is read once, here)."""
    listed: list[Any] = list(items)
    if _weight(listed) + len(glue) * len(listed) > MAX_BODY:
        raise BudgetError(f"join() would make over {MAX_BODY} characters")
    return listed


def _loop_items(iterable: Any, literal_characters: int) -> Iterator[Any]:
    """A ``for`` loop's items, each drawn from the budget with its body's literal text."""
    budget = _current.get()
    if budget is None:
        yield from iterable
        return
    for item in iterable:
        budget.take_items(1)
        budget.produce(literal_characters)
        yield item


def _concat(values: list[Any]) -> str:
    """The ``~`` operator, measured before it builds anything."""
    if sum(_weight(value) for value in values) > MAX_BODY:
        raise BudgetError(f"~ would make over {MAX_BODY} characters")
    return "".join(str(value) for value in values)


def _finalize(value: Any) -> Any:
    """Every ``{{ }}`` value on its way to text: bounded, and counted against the render.

    Never Python's own text for a function or for the whole of ``extra``:
    ``<built-in method upper …>`` in a message is a template mistake.
    """
    if isinstance(value, _Fields):
        raise RenderError("extra holds the contact's fields: write extra.<field>")
    if callable(value) and not isinstance(value, _undefined_type()):  # an undefined is empty
        raise RenderError(f"{getattr(value, '__name__', 'a function')} is a function, not text")
    return _bounded(value)


@lru_cache(maxsize=1)
def _environment() -> SandboxedEnvironment:
    from jinja2 import ChainableUndefined, nodes
    from jinja2.exceptions import SecurityError
    from jinja2.runtime import Context, LoopContext
    from jinja2.sandbox import SandboxedEnvironment
    from jinja2.visitor import NodeTransformer

    here = __name__

    class Budgeted(NodeTransformer):
        """Route loops and ``~`` through the budget (Jinja2's own extension hook, ImportedName)."""

        def visit_For(self, node: nodes.For) -> nodes.Node:
            self.generic_visit(node)
            literal = sum(len(data.data) for data in _literal_text(node.body))
            node.iter = nodes.Call(
                nodes.ImportedName(f"{here}._loop_items"),
                [node.iter, nodes.Const(literal)],
                [],
                None,
                None,
            )
            return node

        def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
            self.generic_visit(node)
            return nodes.Call(
                nodes.ImportedName(f"{here}._concat"), [nodes.List(node.nodes)], [], None, None
            )

    class BudgetedSandbox(SandboxedEnvironment):
        intercepted_binops = frozenset(["*", "**", "+", "%"])

        def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
            if operator == "**" and isinstance(left, int | float) and isinstance(right, int):
                # The digits, known before computing: 10 ** 10 ** 6 is never computed.
                digits = abs(right) * math.log10(abs(left)) if abs(left) > 1 else 0
                if digits > MAX_BODY:
                    raise BudgetError(f"a number of about {int(digits)} digits")
            if operator == "*":
                # Checked before multiplying: 'y' * 10**9 is never built.
                for count, seq in ((left, right), (right, left)):
                    sized = isinstance(seq, str | bytes | list | tuple) and isinstance(count, int)
                    size = _weight(seq) * count if sized else 0
                    if size > MAX_BODY:
                        raise BudgetError(f"a value of {size} items")
            both_ints = isinstance(left, int) and isinstance(right, int)
            if operator == "*" and both_ints and _weight(left) + _weight(right) > MAX_BODY:
                raise BudgetError(f"a number of over {MAX_BODY} digits")
            if operator == "+" and _weight(left) + _weight(right) > MAX_BODY:
                raise BudgetError(f"+ would make over {MAX_BODY} characters")
            if operator == "%" and isinstance(left, str | bytes):
                _check_format(left)
            return _bounded(super().call_binop(context, operator, left, right))

        def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
            # The sandbox hands str.format out wrapped: its string is the wrapped method's.
            method = getattr(__obj, "__wrapped__", __obj)
            owner = getattr(method, "__self__", None)
            name = getattr(__obj, "__name__", "")
            _check_arguments(name, args, kwargs)
            if isinstance(__obj, LoopContext) and args:
                # loop(children) in a recursive for: its items are loop items too.
                args = (_loop_items(args[0], 0), *args[1:])
            if isinstance(owner, str | bytes):
                _check_growth(name, (owner, *args), kwargs)
                if name == "join" and args:
                    args = (_joined(args[0], str(owner)), *args[1:])
            return _bounded(super().call(__context, __obj, *args, **kwargs))

        def getattr(self, obj: Any, attribute: str) -> Any:
            if isinstance(obj, _Fields):
                # A field, never a dict method: extra.items is the "items" field.
                return _field(self, obj, attribute)
            budget = _current.get()
            if budget is not None:
                budget.check_clock()
            return super().getattr(obj, attribute)

        def getitem(self, obj: Any, argument: Any) -> Any:
            if isinstance(obj, _Fields):
                return _field(self, obj, argument)
            return super().getitem(obj, argument)

        def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
            # The sandbox's default renders an unsafe attribute as empty, which
            # would send a blank message: refuse it instead.
            raise SecurityError(
                f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe."
            )

        def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
            tree = super()._parse(source, name, filename)
            result: nodes.Template = Budgeted().visit(tree)
            return result

    # Plain text out (no HTML escaping); a missing field or key is empty,
    # not an error, since contacts rarely all have the same extra fields.
    environment = BudgetedSandbox(
        autoescape=False, undefined=ChainableUndefined, finalize=_finalize
    )
    del environment.globals["lipsum"]  # up to any number of paragraphs; no use in a campaign
    environment.filters = {
        name: _budgeted_filter(name, function) for name, function in environment.filters.items()
    }
    return environment


MISSING_FIELD = "the contact has no field"


def _field(environment: Any, fields: _Fields, name: Any) -> Any:
    """One of ``extra``'s fields, or an undefined value that says it is missing."""
    if name in fields:
        return fields[name]
    return environment.undefined(hint=f"{MISSING_FIELD} {name!r}", obj=fields, name=name)


def _literal_text(body: list[Any]) -> Iterator[Any]:
    """The template text written by a loop body itself (not by loops nested in it)."""
    from jinja2 import nodes

    pending = list(body)
    while pending:
        node = pending.pop()
        if isinstance(node, nodes.TemplateData):
            yield node
        elif not isinstance(node, nodes.For):
            pending.extend(node.iter_child_nodes())


def _budgeted_filter(name: str, function: Any) -> Any:
    """A filter that refuses a huge argument or result, and one whose result would be huge."""

    @functools.wraps(function)  # keeps Jinja2's pass_context & co.
    def budgeted(*args: Any, **kwargs: Any) -> Any:
        # Jinja2 passes its environment or context first to some filters.
        state = 1 if args and isinstance(args[0], _jinja_state()) else 0
        values = args[state:]
        _check_arguments(name, values, kwargs)
        _check_growth(name, values, kwargs)
        if name == "join" and values:
            glue = kwargs.get("d", values[1] if len(values) > 1 else "")
            args = (*args[:state], _joined(values[0], str(glue)), *values[1:])
        return _bounded(function(*args, **kwargs))

    return budgeted


@lru_cache(maxsize=1)
def _jinja_state() -> tuple[type, ...]:
    from jinja2 import Environment
    from jinja2.nodes import EvalContext
    from jinja2.runtime import Context

    return (Environment, Context, EvalContext)


@lru_cache(maxsize=1)
def _undefined_type() -> type:
    from jinja2 import Undefined

    return Undefined


def check(source: str, field: str) -> None:
    """Refuse a template that would fail every delivery, naming ``field``.

    A syntax error (also one Jinja2 only finds compiling: a block defined
    twice, nesting too deep), an unknown filter, test or name (a typo like
    ``{{ frist_name }}`` would send a blank), ``include``/``extends``/
    ``import`` (there are no other templates), and whatever fails a trial
    render with a sample contact, unless it failed on a field the sample
    lacks (``{{ extra.visits + 1 }}`` works for contacts that have visits).
    """
    from jinja2 import TemplateSyntaxError, meta

    try:
        tree = _environment().parse(source)
        # Unknown filters first: finding the names compiles, and would say it less well.
        problem = _unsupported(tree)
        names: set[str] = set()
        if problem is None:
            names = meta.find_undeclared_variables(tree)
            problem = _unknown_names(names)
        if problem is None:
            _compiled(source)
    except TemplateSyntaxError as exc:
        raise ValidationError.for_field(
            field, f"Template error on line {exc.lineno}: {exc.message}"
        ) from None
    except (ValueError, OverflowError):
        # A number literal Python will not turn into a number (over 4,300 digits).
        raise ValidationError.for_field(field, "Template error: a number too long.") from None
    except (RecursionError, MemoryError, SyntaxError):
        # Python's own limits on the generated code: nesting too deep.
        raise ValidationError.for_field(
            field, "Template error: nested too deeply (blocks, brackets or filters)."
        ) from None
    if problem:
        raise ValidationError.for_field(field, problem)
    try:
        text = _render(source, _SAMPLE, MAX_SUBJECT if field == "subject" else MAX_BODY)
    except RenderError as exc:
        if isinstance(exc, BudgetError) or not _about_a_missing_field(exc):
            raise ValidationError.for_field(field, f"Template refused: {exc}") from None
        return
    if not text.strip() and "extra" not in names:
        # Blank with every core field filled in, and no extra field to wait for.
        raise ValidationError.for_field(field, "Template refused: it renders empty.")


def _unknown_names(names: set[str]) -> str | None:
    unknown = sorted(names - set(FIELDS) - set(_GLOBALS))
    if not unknown:
        return None
    return (
        f"Template error: no field named {unknown[0]!r} (use {', '.join(FIELDS[:-1])} "
        "or extra.<field>)."
    )


def _about_a_missing_field(exc: RenderError) -> bool:
    """Whether a render failed on an ``extra`` field the sample contact lacks.

    The sample has every core field; only ``extra`` fields differ between
    contacts, and a missing one says so in its message (see :func:`_field`).
    """
    return MISSING_FIELD in str(exc)


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
    text = _render(source, fields, MAX_BODY)
    if not text.strip():
        raise EmptyMessageError("the message is empty for this contact")
    return text


def render_subject(source: str, fields: dict[str, Any]) -> str:
    """An email subject: one line (breaks become spaces), at most :data:`MAX_SUBJECT` chars."""
    try:
        text = _render(source, fields, MAX_SUBJECT * 4)
    except _OutputLimitError:
        raise BudgetError(f"the subject is over {MAX_SUBJECT} characters") from None
    subject = _LINE_BREAKS.sub(" ", text).strip()
    if len(subject) > MAX_SUBJECT:
        raise BudgetError(f"the subject has {len(subject)} characters (at most {MAX_SUBJECT})")
    if not subject:
        raise EmptyMessageError("the subject is empty for this contact")
    return subject


def _render(source: str, fields: dict[str, Any], limit: int) -> str:
    if "{" not in source:
        return source
    budget = _Budget()
    token = _current.set(budget)
    try:
        template = _compiled(source)
        context = {**fields, "extra": _Fields(fields.get("extra") or {})}
        parts: list[str] = []
        size = 0
        with _deadline(RENDER_SECONDS):
            for part in template.generate(context):
                size += len(part)
                if size > limit:
                    raise _OutputLimitError(f"the text is over {limit} characters")
                parts.append(part)
        return "".join(parts)
    except RenderError:
        raise
    except Exception as exc:
        # Anything a template can do wrong at render time (SecurityError,
        # TypeError in a filter, a syntax error saved before this check)
        # belongs to this one contact's delivery, never to the batch.
        raise RenderError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        _current.reset(token)


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
