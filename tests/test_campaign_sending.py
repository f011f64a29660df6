"""Sending campaigns: fan-out, one delivery per contact, exact stats, and faults along the way."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import User, run_queue, sent_emails

CAMPAIGNS = "/api/campaigns/campaigns"


@pytest.fixture
def directory(ana: User) -> str:
    return ana.new_directory("Customers")


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Failed messages come straight back (no backoff, no visibility wait)."""
    from chalicelib.aws import client
    from chalicelib.campaigns import sending
    from chalicelib.config import settings

    fast = dataclasses.replace(settings(), send_retry_base_seconds=0)
    monkeypatch.setattr(sending, "settings", lambda: fast)
    sqs = client("sqs")
    for logical in ("campaigns", "deliveries"):
        url = sqs.get_queue_url(QueueName=settings().queue_name(logical))["QueueUrl"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "0"})


def add_people(user: User, directory: str, count: int) -> list[dict[str, Any]]:
    return [
        user.new_contact(
            directory,
            email=f"person{n}@example.com",
            first_name=f"Name{n}",
            phone=f"+1 202 555 {n:04d}",
            extra={"company": f"Firm {n}"},
        )
        for n in range(count)
    ]


def start(user: User, directory: str, **fields: Any) -> str:
    body = {
        "name": "News",
        "channel": "email",
        "subject": "Hi {{ first_name }}",
        "body": "Hello {{ first_name }} at {{ extra.company }}",
        "directory": directory,
        **fields,
    }
    status, campaign, _ = user.post(CAMPAIGNS, body)
    assert status == 201, campaign
    status, queued, _ = user.post(f"{CAMPAIGNS}/{campaign['id']}/queue")
    assert status == 202, queued
    return str(campaign["id"])


def run_all() -> None:
    """Pump the campaign queues until nothing is left, as Lambda would."""
    while run_queue("campaigns") + run_queue("deliveries"):
        pass


def campaign_of(user: User, campaign_id: str) -> dict[str, Any]:
    status, campaign, _ = user.get(f"{CAMPAIGNS}/{campaign_id}")
    assert status == 200
    return dict(campaign)


def deliveries_of(user: User, campaign_id: str, status: str | None = None) -> list[dict[str, Any]]:
    url = f"/api/campaigns/deliveries?campaign={campaign_id}&page_size=500"
    if status:
        url += f"&status={status}"
    code, page, _ = user.get(url)
    assert code == 200, page
    return list(page["results"])


def emails_by_address() -> Counter[str]:
    return Counter(to for email in sent_emails() for to in email.to)


def test_can_send_a_personalised_email_to_every_contact(ana: User, directory: str) -> None:
    contacts = add_people(ana, directory, 4)
    campaign_id = start(ana, directory)
    run_all()
    campaign = campaign_of(ana, campaign_id)
    assert campaign["status"] == "completed"
    assert campaign["stats"] == {"total": 4, "pending": 0, "sent": 4, "failed": 0, "skipped": 0}
    emails = {email.to[0]: email for email in sent_emails()}
    assert set(emails) == {c["email"] for c in contacts}
    assert emails["person2@example.com"].subject == "Hi Name2"
    assert emails["person2@example.com"].body == "Hello Name2 at Firm 2"
    deliveries = deliveries_of(ana, campaign_id)
    assert {d["contact"] for d in deliveries} == {c["id"] for c in contacts}
    assert {(d["status"], d["attempts"]) for d in deliveries} == {("sent", 1)}
    assert all(d["sent_at"] and d["provider_message_id"] for d in deliveries)


def test_contacts_that_cannot_receive_are_skipped_with_a_reason(ana: User, directory: str) -> None:
    ana.new_contact(directory, email="ok@example.com", first_name="Ok")
    ana.new_contact(directory, first_name="No address", phone="+1 202 555 0100")
    ana.new_contact(directory, email="gone@example.com", subscriptions={"email": "unsubscribed"})
    ana.new_contact(directory, email="bounce@example.com", subscriptions={"email": "bounced"})
    ana.new_contact(
        directory, email="texts-only@example.com", subscriptions={"sms": "unsubscribed"}
    )
    campaign_id = start(ana, directory)
    run_all()
    campaign = campaign_of(ana, campaign_id)
    assert campaign["status"] == "completed"
    assert campaign["stats"] == {"total": 5, "pending": 0, "sent": 2, "failed": 0, "skipped": 3}
    skipped = {d["destination"]: d["error"] for d in deliveries_of(ana, campaign_id, "skipped")}
    assert skipped == {
        None: "No email address.",
        "gone@example.com": "The contact is unsubscribed for email.",
        "bounce@example.com": "The contact is bounced for email.",
    }
    assert set(emails_by_address()) == {"ok@example.com", "texts-only@example.com"}


def test_an_sms_campaign_sends_once_per_phone_and_skips_bad_numbers(
    ana: User, directory: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Ana is added first, though her email sorts last: she is the earlier contact.
    ana.new_contact(directory, first_name="Ana", phone="+1 202 555 0101", email="zz@example.com")
    ana.new_contact(directory, first_name="Twin", phone="(202) 555-0101", email="aa@example.com")
    ana.new_contact(directory, first_name="Bad", phone="call me maybe")
    ana.new_contact(directory, first_name="None", email="none@example.com")
    ana.new_contact(
        directory,
        first_name="Quiet",
        phone="+1 202 555 0102",
        subscriptions={"sms": "unsubscribed"},
    )
    campaign_id = start(ana, directory, channel="sms", subject=None, body="Hi {{ first_name }}!")
    run_all()
    campaign = campaign_of(ana, campaign_id)
    assert campaign["stats"] == {"total": 5, "pending": 0, "sent": 1, "failed": 0, "skipped": 4}
    reasons = sorted(d["error"] for d in deliveries_of(ana, campaign_id, "skipped"))
    assert reasons == [
        "Invalid phone number.",
        "No phone number.",
        "Same address as an earlier contact of this campaign.",
        "The contact is unsubscribed for sms.",
    ]
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[sms]")]
    assert len(lines) == 1
    assert lines[0].startswith('[sms] to=+12025550101 text="Hi Ana!"')


def test_a_big_directory_fans_out_page_by_page_with_exact_stats(
    ana: User, directory: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.campaigns import fanout

    monkeypatch.setattr(fanout, "PAGE_SIZE", 3)
    monkeypatch.setattr(fanout, "DELIVERIES_PER_MESSAGE", 2)
    add_people(ana, directory, 10)
    campaign_id = start(ana, directory)
    run_all()
    campaign = campaign_of(ana, campaign_id)
    assert campaign["status"] == "completed"
    assert campaign["stats"] == {"total": 10, "pending": 0, "sent": 10, "failed": 0, "skipped": 0}
    assert sorted(emails_by_address().values()) == [1] * 10


def test_an_empty_directory_completes_at_once(ana: User, directory: str) -> None:
    campaign_id = start(ana, directory)
    run_all()
    campaign = campaign_of(ana, campaign_id)
    assert (campaign["status"], campaign["stats"]["total"]) == ("completed", 0)


def test_a_fan_out_page_run_twice_sends_and_counts_once(
    ana: User, directory: str, monkeypatch: pytest.MonkeyPatch, quick_retries: None
) -> None:
    from chalicelib.campaigns import fanout

    monkeypatch.setattr(fanout, "PAGE_SIZE", 2)
    add_people(ana, directory, 5)
    real_queue_sends = fanout._queue_sends
    calls = {"n": 0}

    def dies_after_writing(*args: Any) -> None:
        calls["n"] += 1
        real_queue_sends(*args)
        if calls["n"] == 2:
            raise RuntimeError("the run died after queuing its sends")

    monkeypatch.setattr(fanout, "_queue_sends", dies_after_writing)
    campaign_id = start(ana, directory)
    run_queue("campaigns", max_batches=1)
    # The first page's message again, as SQS may deliver it twice.
    from chalicelib import queues

    queues.send(
        "campaigns",
        {"kind": "fan_out_page", "owner_id": ana.id, "campaign_id": campaign_id, "page": 0},
    )
    run_all()
    campaign = campaign_of(ana, campaign_id)
    assert campaign["status"] == "completed"
    assert campaign["stats"] == {"total": 5, "pending": 0, "sent": 5, "failed": 0, "skipped": 0}
    assert sorted(emails_by_address().values()) == [1] * 5


def test_a_template_failing_for_one_contact_fails_that_delivery_only(
    ana: User, directory: str
) -> None:
    ana.new_contact(directory, email="one@example.com", extra={"visits": 1})
    ana.new_contact(directory, email="odd@example.com", extra={"visits": "many"})
    campaign_id = start(ana, directory, body="Visit number {{ extra.visits + 1 }}")
    run_all()
    campaign = campaign_of(ana, campaign_id)
    assert campaign["status"] == "completed_with_errors"
    assert campaign["stats"] == {"total": 2, "pending": 0, "sent": 1, "failed": 1, "skipped": 0}
    (failed,) = deliveries_of(ana, campaign_id, "failed")
    assert failed["destination"] == "odd@example.com"
    assert failed["error"].startswith("Template: TypeError")
    assert [e.body for e in sent_emails()] == ["Visit number 2"]


def ses_error(code: str) -> Exception:
    from botocore.exceptions import ClientError

    status = 429 if code == "TooManyRequestsException" else 400
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "SendEmail",
    )


@pytest.fixture
def ses_calls(aws: None, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every address SES is asked to send to; tests add faults with ``faults``."""
    from chalicelib.aws import client

    ses = client("sesv2")
    real = ses.send_email
    calls: list[str] = []

    def send_email(**request: Any) -> Any:
        to = request["Destination"]["ToAddresses"][0]
        calls.append(to)
        fault = FAULTS.pop(0) if FAULTS and FAULTS[0][0] in (to, "*") else None
        if fault:
            if fault[2] > 1:
                FAULTS.insert(0, (fault[0], fault[1], fault[2] - 1))
            raise ses_error(fault[1])
        return real(**request)

    FAULTS.clear()
    monkeypatch.setattr(ses, "send_email", send_email)
    return calls


# (address or "*", SES error code, how many times) in the order they strike.
FAULTS: list[tuple[str, str, int]] = []


def test_throttled_sends_are_retried_until_all_are_sent(
    ana: User, directory: str, ses_calls: list[str], quick_retries: None
) -> None:
    add_people(ana, directory, 6)
    FAULTS.extend([("*", "TooManyRequestsException", 3)])
    FAULTS.append(("person4@example.com", "TooManyRequestsException", 2))
    campaign_id = start(ana, directory)
    run_all()
    campaign = campaign_of(ana, campaign_id)
    assert campaign["status"] == "completed"
    assert campaign["stats"] == {"total": 6, "pending": 0, "sent": 6, "failed": 0, "skipped": 0}
    assert sorted(emails_by_address().values()) == [1] * 6
    assert len(ses_calls) > 6  # the throttled calls were made and retried
    assert deliveries_of(ana, campaign_id, "failed") == []
    assert max(d["attempts"] for d in deliveries_of(ana, campaign_id)) >= 2


def test_a_rejected_address_fails_at_once_and_is_not_retried(
    ana: User, directory: str, ses_calls: list[str], quick_retries: None
) -> None:
    add_people(ana, directory, 3)
    FAULTS.append(("person1@example.com", "MessageRejected", 1))
    campaign_id = start(ana, directory)
    run_all()
    campaign = campaign_of(ana, campaign_id)
    assert campaign["status"] == "completed_with_errors"
    assert campaign["stats"] == {"total": 3, "pending": 0, "sent": 2, "failed": 1, "skipped": 0}
    assert ses_calls.count("person1@example.com") == 1
    (failed,) = deliveries_of(ana, campaign_id, "failed")
    assert (failed["destination"], failed["attempts"]) == ("person1@example.com", 1)
    assert failed["error"].startswith("MessageRejected")


class Crash(BaseException):
    """The Lambda dying (timeout, out of memory): nothing after it runs, no except clause."""


def test_a_crash_between_claim_and_send_is_retried_not_lost(
    ana: User, directory: str, monkeypatch: pytest.MonkeyPatch, quick_retries: None
) -> None:
    from chalicelib.campaigns import sending
    from chalicelib.channels import email
    from chalicelib.db import utcnow

    add_people(ana, directory, 3)
    campaign_id = start(ana, directory)
    run_queue("campaigns")
    real_send = email.send_email

    def crash(*args: Any) -> str:
        raise Crash

    monkeypatch.setattr(email, "send_email", crash)
    with pytest.raises(Crash):
        run_queue("deliveries", max_batches=1)
    assert sent_emails() == []
    assert {d["status"] for d in deliveries_of(ana, campaign_id)} == {"pending"}

    # Before the claim's lease runs out, the message comes back: the others
    # are sent, the claimed one waits (its claimer might still be sending).
    monkeypatch.setattr(email, "send_email", real_send)
    run_queue("deliveries", max_batches=1)
    assert set(emails_by_address()) == {"person1@example.com", "person2@example.com"}
    # After it, the delivery is claimed again and sent, once.
    monkeypatch.setattr(sending, "utcnow", lambda: utcnow() + timedelta(minutes=5))
    run_all()
    campaign = campaign_of(ana, campaign_id)
    assert campaign["status"] == "completed"
    assert campaign["stats"]["sent"] == 3
    assert sorted(emails_by_address().values()) == [1] * 3


def test_sends_that_run_out_of_retries_are_failed_by_the_dead_letter_handler(
    ana: User, directory: str, monkeypatch: pytest.MonkeyPatch, quick_retries: None
) -> None:
    from chalicelib.channels import email

    real_send = email.send_email

    def fails_for_one(to: str, subject: str, text: str) -> str:
        if to == "person0@example.com":
            raise RuntimeError("the provider's SDK chokes on this one")
        return real_send(to, subject, text)

    monkeypatch.setattr(email, "send_email", fails_for_one)
    add_people(ana, directory, 2)
    campaign_id = start(ana, directory)
    run_all()
    assert campaign_of(ana, campaign_id)["status"] == "sending"
    assert run_queue("deliveries-dlq") == 1
    campaign = campaign_of(ana, campaign_id)
    assert campaign["status"] == "completed_with_errors"
    assert campaign["stats"] == {"total": 2, "pending": 0, "sent": 1, "failed": 1, "skipped": 0}
    (failed,) = deliveries_of(ana, campaign_id, "failed")
    assert failed["destination"] == "person0@example.com"
    assert failed["error"] == (
        "Not sent after 10 attempts: RuntimeError: the provider's SDK chokes on this one"
    )
    assert emails_by_address() == {"person1@example.com": 1}


def test_a_fan_out_that_runs_out_of_retries_fails_the_campaign(
    ana: User, directory: str, monkeypatch: pytest.MonkeyPatch, quick_retries: None
) -> None:
    from chalicelib.campaigns import fanout

    def broken(*args: Any) -> None:
        raise RuntimeError("contacts table unavailable")

    monkeypatch.setattr(fanout, "_fan_out_page", broken)
    add_people(ana, directory, 2)
    campaign_id = start(ana, directory)
    run_all()
    assert campaign_of(ana, campaign_id)["status"] == "queued"
    assert run_queue("campaigns-dlq") == 1
    campaign = campaign_of(ana, campaign_id)
    assert campaign["status"] == "failed"
    assert "page 0" in campaign["error"]
    assert sent_emails() == []


def test_a_fan_out_run_that_dies_outright_holds_its_page_until_its_lease_ends(
    ana: User, directory: str, monkeypatch: pytest.MonkeyPatch, quick_retries: None
) -> None:
    from chalicelib.campaigns import fanout
    from chalicelib.db import utcnow

    add_people(ana, directory, 3)
    real_queue_sends = fanout._queue_sends

    def crash(*args: Any) -> None:
        raise Crash

    monkeypatch.setattr(fanout, "_queue_sends", crash)
    campaign_id = start(ana, directory)
    with pytest.raises(Crash):
        run_queue("campaigns", max_batches=1)
    monkeypatch.setattr(fanout, "_queue_sends", real_queue_sends)
    run_queue("campaigns", max_batches=1)  # the page is still leased: nothing happens
    assert campaign_of(ana, campaign_id)["status"] == "queued"
    monkeypatch.setattr(fanout, "utcnow", lambda: utcnow() + timedelta(minutes=2))
    run_all()
    campaign = campaign_of(ana, campaign_id)
    assert campaign["status"] == "completed"
    assert campaign["stats"] == {"total": 3, "pending": 0, "sent": 3, "failed": 0, "skipped": 0}
    assert sorted(emails_by_address().values()) == [1] * 3


def test_a_run_short_of_time_stops_claiming_and_the_rest_is_sent_on_retry(
    ana: User, directory: str, quick_retries: None
) -> None:
    import app
    from chalicelib.aws import client
    from chalicelib.queues import queue_url
    from local.pump import sqs_event

    add_people(ana, directory, 4)
    campaign_id = start(ana, directory)
    run_queue("campaigns")
    sqs = client("sqs")
    received = sqs.receive_message(
        QueueUrl=queue_url("deliveries"), AttributeNames=["All"], MaxNumberOfMessages=10
    )["Messages"]
    checks = iter([60_000, 60_000, 9_000])

    class AlmostOutOfTime:
        def get_remaining_time_in_millis(self) -> int:
            return next(checks, 1_000)

    result = app.send_deliveries(sqs_event(received, "arn:queue", "us-east-1"), AlmostOutOfTime())
    assert result == {"batchItemFailures": [{"itemIdentifier": received[0]["MessageId"]}]}
    assert len(sent_emails()) == 2
    assert campaign_of(ana, campaign_id)["stats"]["sent"] == 2
    run_all()
    campaign = campaign_of(ana, campaign_id)
    assert campaign["status"] == "completed"
    assert campaign["stats"] == {"total": 4, "pending": 0, "sent": 4, "failed": 0, "skipped": 0}
    assert sorted(emails_by_address().values()) == [1] * 4


def test_a_directory_deleted_during_the_fan_out_fails_the_campaign_saying_so(
    ana: User, directory: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.campaigns import fanout

    monkeypatch.setattr(fanout, "PAGE_SIZE", 3)
    add_people(ana, directory, 7)
    campaign_id = start(ana, directory)
    run_queue("campaigns", max_batches=1)  # the first page: 3 deliveries prepared
    assert ana.delete(f"/api/directory/directories/{directory}")[0] == 204
    run_queue("cleanup")  # the purge empties the directory before the next page
    run_all()
    campaign = campaign_of(ana, campaign_id)
    assert campaign["status"] == "failed"
    assert "directory was deleted after 3 deliveries were prepared" in campaign["error"]
    assert "already queued may still be sent" in campaign["error"]
    # What was queued before the deletion went out, and is counted.
    assert campaign["stats"] == {"total": 3, "pending": 0, "sent": 3, "failed": 0, "skipped": 0}
    assert sorted(emails_by_address().values()) == [1] * 3


def test_a_directory_deleted_mid_page_is_noticed_even_before_the_purge(
    ana: User, directory: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.campaigns import fanout

    monkeypatch.setattr(fanout, "PAGE_SIZE", 3)
    add_people(ana, directory, 7)
    campaign_id = start(ana, directory)
    run_queue("campaigns", max_batches=2)  # two pages: 6 deliveries prepared
    assert ana.delete(f"/api/directory/directories/{directory}")[0] == 204
    run_all()
    campaign = campaign_of(ana, campaign_id)
    assert campaign["status"] == "failed"
    assert "after 6 deliveries" in campaign["error"]
    assert campaign["stats"]["total"] == 6
