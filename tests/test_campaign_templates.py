"""Templates that try to hurt: budgets, the sandbox, header injection, refused at save or send."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests.conftest import User, run_queue, sent_emails

CAMPAIGNS = "/api/campaigns/campaigns"
BIG = "{% set x = 'a' * 100000 %}"
# Slow work no counter sees (a long string's unique characters, 9,999 times).
SLOW_UNSEEN = (
    "{% set x = 'y' * 99999 %}{% for i in range(9999) %}"
    "{% set n = x|unique|list|length %}{% endfor %}"
)
NESTED_RANGES = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
SANDBOX_ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ first_name|attr('__class__') }}",
    "{{ '{0.__class__}'.format(first_name) }}",
]


@pytest.fixture
def directory(ana: User) -> str:
    return ana.new_directory("Customers")


def fields() -> dict[str, Any]:
    from chalicelib.campaigns.templates import contact_fields

    return contact_fields("Zoë", "Martin", "zoe@example.com", None, {"company": "Acme"})


def campaign(directory: str, **values: Any) -> dict[str, Any]:
    return {
        "name": "News",
        "channel": "email",
        "subject": "Hi {{ first_name }}",
        "body": "Hello {{ first_name }}",
        "directory": directory,
        **values,
    }


def run_all() -> None:
    while run_queue("campaigns") + run_queue("deliveries"):
        pass


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (NESTED_RANGES, "loops over 10000 items"),
        ("{{ 'y' * 2000000 }}", "a value of 2000000 items"),
        ("{{ [1] * 2000000 }}", "a value of 2000000 items"),
        ("{{ 10 ** 200000 }}", "digits"),
        ("{% for i in range(5000) %}{{ 'y' * 50 }}{% endfor %}", "over 100000 characters"),
        # Loops over anything, not only range(), draw on the loop budget.
        ("{% for a in 'y' * 99999 %}{% for b in 'y' * 99999 %}{% endfor %}{% endfor %}", "loops"),
        # Ways to grow a value other than * (each would build gigabytes).
        (f"{BIG}{{{{ ([x] * 100000)|join|length }}}}", "a value of 10000000000 items"),
        (f"{BIG}{{{{ x|replace('a', x)|length }}}}", "replace() would make"),
        (f"{BIG}{{{{ x.replace('a', x)|length }}}}", "replace() would make"),
        ("{{ ''|center(10**10)|length }}", "a number over 100000 given to center()"),
        ("{{ 'a'.ljust(10**9)|length }}", "a number over 100000 given to ljust()"),
        (f"{BIG}{{{{ (x ~ x)|length }}}}", "over 100000 characters"),
        (f"{BIG}{{{{ (x + x)|length }}}}", "+ would make"),
        (f"{BIG}{{{{ (['a'] * 5000)|join(x)|length }}}}", "join() would make"),
        (f"{BIG}{{{{ x.join(['a'] * 5000)|length }}}}", "join() would make"),
        (
            f"{BIG}{{% set l = [] %}}{{% for i in range(9000) %}}{{{{ l.append(x) }}}}"
            "{% endfor %}{{ l|join|length }}",
            "over 100000 characters",
        ),
        (
            f"{BIG}{{% set l = [] %}}{{% for i in range(9000) %}}{{{{ l.append(x) }}}}"
            "{% endfor %}{{ l|length }}",
            "over 100000 characters",
        ),
        (
            "{% set y %}{% for i in range(9999) %}" + "z" * 1000 + "{% endfor %}{% endset %}",
            "over 1000000 characters made",
        ),
        ("{% set a = 9 ** 90000 %}{% set b = a * a %}{{ b % 7 }}", "digits"),
        (f"{BIG}{{{{ x|indent(x)|length }}}}", "indent() would make"),
        ("{{ '%0999999d'|format(1) }}", "a format padding to over 100000"),
        ("{{ '%0999999d' % 1 }}", "a format padding to over 100000"),
        ("{{ '{:>999999}'.format(1) }}", "a format padding to over 100000"),
        # From a second break-it pass: bytes, values kept in a list, many
        # padded fields, translate, lazy map, recursion without a loop turn.
        ("{% set b = 'a'.encode() * 1000000000 %}{{ b|length }}", "a value of 1000000000 items"),
        (
            "{% set l = [] %}{% set s = 'a' * 99990 %}{% for i in range(10000) %}"
            "{% if l.append(s ~ i) %}{% endif %}{% endfor %}ok",
            "over 1000000 characters made",
        ),
        ("{{ ('{0:99999}' * 11000).format('') }}", "a format padding to over 100000"),
        ("{{ ('%99999s' * 11000) % (('',) * 11000) }}", "a format padding to over 100000"),
        ("{{ ('a' * 99999).translate({97: 'x' * 99990}) }}", "translate() would make"),
        ("{{ range(100000)|map('center', 99999)|list|length }}", "over 1000000 characters made"),
        ("{% for i in [17] recursive %}{{ loop(range(i)) }}{% endfor %}x", "loops over 10000"),
        # Work no counter sees (a long string's unique characters, 9,999 times): the clock stops it.
        (
            SLOW_UNSEEN,
            "took",
        ),
    ],
)
def test_error_on_a_render_over_budget_comes_quickly(source: str, message: str) -> None:
    from chalicelib.campaigns.templates import RENDER_SECONDS, RenderError, render

    started = time.monotonic()
    with pytest.raises(RenderError, match=re.escape(message)):
        render(source, fields())
    assert time.monotonic() - started < RENDER_SECONDS + 1


def test_can_render_loops_and_repeats_within_budget() -> None:
    from chalicelib.campaigns.templates import render

    source = "{% for i in range(3) %}{{ i }}{% endfor %}{{ '-' * 3 }}{{ 2 ** 10 }} {{ first_name }}"
    assert render(source, fields()) == "012---1024 Zoë"


@pytest.mark.parametrize("source", SANDBOX_ESCAPES)
def test_error_on_a_sandbox_escape_at_render(source: str) -> None:
    from chalicelib.campaigns.templates import RenderError, render

    with pytest.raises(RenderError, match="SecurityError"):
        render(source, fields())


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("{{ first_name | nosuchfilter }}", "no filter named 'nosuchfilter'"),
        ("{% if first_name is nosuchtest %}x{% endif %}", "no test named 'nosuchtest'"),
        ("{% include 'other.txt' %}", "include is not available"),
        ("{% extends 'base.txt' %}", "extends is not available"),
        ("{% import 'macros.txt' as m %}", "import is not available"),
        ("{% from 'macros.txt' import greet %}", "import is not available"),
        (NESTED_RANGES, "loops over 10000 items"),
        ("{{ 'y' * 2000000 }}", "a value of 2000000 items"),
        *((source, "unsafe") for source in SANDBOX_ESCAPES),
        # Nested too deeply for Jinja2's parser or Python's compiler (was a 500).
        ("{{ " + "(" * 80 + "1" + ")" * 80 + " }}", "nested too deeply"),
        ("{{ " + "[" * 2000 + "]" * 2000 + " }}", "nested too deeply"),
        ("{% if 1 %}" * 500 + "{% endif %}" * 500, "nested too deeply"),
        ("{{ 1" + "+1" * 1000 + " }}", "nested too deeply"),
        ("{{ first_name" + "|upper" * 3000 + " }}", "nested too deeply"),
        ("{% for a in x %}" * 60 + "{% endfor %}" * 60, "Template"),
        # Errors Jinja2 only finds compiling, and renders that fail for anyone.
        ("{% block a %}{% endblock %}{% block a %}{% endblock %}", "defined twice"),
        ("{% macro m(a, a) %}{% endmacro %}", "Template"),
        ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "RecursionError"),
        ("{{ 1 / 0 }}", "ZeroDivisionError"),
        ("{{ first_name|wordwrap(0) }}", "Template refused"),
        ("{{ first_name|truncate(-5) }}", "Template refused"),
        ("{{ first_name() }}", "not callable"),
        # A name no contact has: a typo would send a blank to everyone.
        ("{{ frist_name }}", "no field named 'frist_name'"),
        ("{{ undefined_thing() }}", "no field named 'undefined_thing'"),
        # Fails for every contact, whatever their fields: refused at save.
        ("{{ " + "9" * 5000 + " }}", "a number too long"),
        ("{{ '' }}", "renders empty"),
        ("Hi {{ first_name.captalize() }}", "Template refused"),
        ("Hi {{ self.a() }}", "Template refused"),
        ("Hi {{ '{Undefined}'.format() }}", "KeyError"),
        ("Hi {{ first_name.upper }}", "is a function, not text"),
        ("Hi {{ extra }}", "write extra.<field>"),
    ],
)
@pytest.mark.parametrize("field", ["subject", "body"])
def test_error_on_saving_a_template_that_would_fail_every_delivery(
    ana: User, directory: str, template: str, words: str, field: str
) -> None:
    if field == "subject" and len(template) > 998:
        words = "at most 998 characters"  # refused for its length before it is parsed
    status, problem, _ = ana.post(CAMPAIGNS, campaign(directory, **{field: template}))
    assert status == 400, problem
    assert list(problem["errors"]) == [field]
    assert words in problem["errors"][field][0]

    draft = ana.post(CAMPAIGNS, campaign(directory))[1]
    status, problem, _ = ana.patch(f"{CAMPAIGNS}/{draft['id']}", {field: template})
    assert status == 400, problem
    assert list(problem["errors"]) == [field]


def test_can_save_a_template_whose_errors_depend_on_the_contact(ana: User, directory: str) -> None:
    status, saved, _ = ana.post(CAMPAIGNS, campaign(directory, body="#{{ extra.visits + 1 }}"))
    assert status == 201, saved


def bypass_save_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Templates stored before the save-time checks existed."""
    from chalicelib.campaigns import templates

    monkeypatch.setattr(templates, "check", lambda source, field: None)


def test_a_template_over_budget_fails_only_its_delivery_and_sends_nothing_blank(
    ana: User, directory: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bypass_save_checks(monkeypatch)
    ana.new_contact(directory, email="one@example.com", first_name="One")
    for body in (NESTED_RANGES, "{{ 'y' * 2000000 }}", SANDBOX_ESCAPES[0]):
        status, draft, _ = ana.post(CAMPAIGNS, campaign(directory, body=body))
        assert status == 201, draft
        assert ana.post(f"{CAMPAIGNS}/{draft['id']}/queue")[0] == 202
    good = ana.post(CAMPAIGNS, campaign(directory))[1]
    assert ana.post(f"{CAMPAIGNS}/{good['id']}/queue")[0] == 202
    run_all()
    assert [e.body for e in sent_emails()] == ["Hello One"]
    results = [c for c in ana.get(CAMPAIGNS)[1]["results"] if c["id"] != good["id"]]
    assert {c["status"] for c in results} == {"completed_with_errors"}
    errors = sorted(
        ana.get(f"/api/campaigns/deliveries?campaign={c['id']}")[1]["results"][0]["error"]
        for c in results
    )
    assert errors[0].startswith("Template: SecurityError")
    assert "a value of 2000000 items" in errors[1]
    assert "loops over 10000 items" in errors[2]


@pytest.mark.parametrize("subject", ["Hi\r\nBcc: evil@x.com", "Hi\nBcc: evil@x.com", "Hi\r"])
def test_error_on_a_subject_with_a_line_break(ana: User, directory: str, subject: str) -> None:
    status, problem, _ = ana.post(CAMPAIGNS, campaign(directory, subject=subject))
    assert status == 400, problem
    assert list(problem["errors"]) == ["subject"]


def test_a_line_break_from_a_contact_field_never_reaches_the_subject(
    ana: User, directory: str
) -> None:
    ana.new_contact(
        directory, email="one@example.com", extra={"company": "Acme\r\nBcc: evil@x.com"}
    )
    draft = ana.post(CAMPAIGNS, campaign(directory, subject="News for {{ extra.company }}"))[1]
    assert ana.post(f"{CAMPAIGNS}/{draft['id']}/queue")[0] == 202
    run_all()
    (email,) = sent_emails()
    assert email.subject == "News for Acme Bcc: evil@x.com"
    assert email.to == ["one@example.com"]


def test_a_rendered_subject_over_998_characters_fails_the_delivery(
    ana: User, directory: str
) -> None:
    ana.new_contact(directory, email="one@example.com", extra={"company": "x" * 1000})
    draft = ana.post(CAMPAIGNS, campaign(directory, subject="{{ extra.company }}"))[1]
    assert ana.post(f"{CAMPAIGNS}/{draft['id']}/queue")[0] == 202
    run_all()
    assert sent_emails() == []
    (delivery,) = ana.get(f"/api/campaigns/deliveries?campaign={draft['id']}")[1]["results"]
    assert delivery["status"] == "failed"
    assert "at most 998" in delivery["error"]


def test_extra_fields_named_like_dict_methods_are_the_contact_s_fields() -> None:
    from chalicelib.campaigns.templates import contact_fields, render

    values = contact_fields("A", "B", None, None, {"items": "3 widgets", "get": "G", "keys": "K"})
    source = (
        "{{ extra.items }}|{{ extra.get }}|{{ extra.keys }}|{{ extra.values }}|{{ extra['items'] }}"
    )
    assert render(source, values) == "3 widgets|G|K||3 widgets"


def test_a_message_that_renders_blank_fails_its_delivery_and_is_never_sent(
    ana: User, directory: str
) -> None:
    ana.new_contact(directory, email="blank@example.com")
    ana.new_contact(directory, email="full@example.com", extra={"note": "Hi", "s": "News"})
    body = {"subject": "{{ extra.s }}", "body": "{{ extra.note }}  "}
    status, saved, _ = ana.post(CAMPAIGNS, campaign(directory, **body))
    assert status == 201, saved  # blank only for contacts without those fields
    assert ana.post(f"{CAMPAIGNS}/{saved['id']}/queue", {})[0] == 202
    run_all()
    assert [m.to for m in sent_emails()] == [["full@example.com"]]
    status, page, _ = ana.get(f"/api/campaigns/deliveries?campaign={saved['id']}&status=failed")
    (failed,) = page["results"]
    assert "empty" in failed["error"]


def test_a_subject_far_over_998_characters_says_so_in_the_subject_s_words() -> None:
    from chalicelib.campaigns.templates import BudgetError, contact_fields, render_subject

    values = contact_fields("A", "B", None, None, {"company": "x" * 5000})
    with pytest.raises(BudgetError, match="the subject is over 998 characters"):
        render_subject("{{ extra.company }}", values)


def render_in_a_thread(source: str) -> tuple[float, list[BaseException]]:
    """Seconds a render took in a worker thread (where SIGALRM never fires), and its error."""
    import threading

    from chalicelib.campaigns.templates import RenderError, render

    outcome: list[BaseException] = []

    def run() -> None:
        try:
            render(source, fields())
        except RenderError as exc:
            outcome.append(exc)

    started = time.monotonic()
    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=30)
    return time.monotonic() - started, outcome


def test_a_slow_render_stops_in_any_thread_not_only_where_a_timer_can_reach() -> None:
    """The local stack renders in threads, where SIGALRM never fires: loops watch the clock."""
    from chalicelib.campaigns.templates import RENDER_SECONDS

    seconds, outcome = render_in_a_thread(SLOW_UNSEEN)
    assert seconds < RENDER_SECONDS + 1
    assert outcome and "took over" in str(outcome[0])


@pytest.mark.parametrize(
    "source",
    [
        "{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(40) }}x",
        "{% set T = ('',) * 99999 %}{{ range(100000)|map(attribute='x', default=T)"
        "|map('length')|sum }}",
    ],
)
def test_work_outside_loops_stops_too_in_a_thread(source: str) -> None:
    """Recursion and lazy pipelines turn no loop: every call looks at the clock."""
    from chalicelib.campaigns.templates import RENDER_SECONDS

    seconds, outcome = render_in_a_thread(source)
    assert seconds < RENDER_SECONDS + 1
    assert outcome, "the render should have been stopped"


def test_subscripted_extra_fields_are_fields_too_and_missing_ones_are_empty() -> None:
    from chalicelib.campaigns.templates import contact_fields, render

    values = contact_fields("A", "B", None, None, {"items": "3 widgets"})
    assert render("{{ extra['items'] }}|{{ extra['keys'] }}.", values) == "3 widgets|."
