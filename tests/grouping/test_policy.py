"""The grouping policy, pure: identity, due times, what a flush does, digest schedules."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import attrs
import pytest

from notify_core import Channel, Message
from notify_core._digest import DigestPolicy, parse_clock_time
from notify_core._grouping import (
    GroupPolicy,
    arrival_due,
    hold_for,
    label_value,
    outlook,
    plan_flush,
)
from notify_core._store import GroupItem, GroupRow

BERLIN = ZoneInfo("Europe/Berlin")
T0 = 1_800_000_000.0


def group(**kw) -> GroupRow:
    base = {
        "id": "g1",
        "kind": "group",
        "channel": "ops",
        "tenant": None,
        "provider": "webhook",
        "key": "ops{}",
        "labels": "{}",
        "created": T0,
        "updated": T0,
        "due": None,
        "last_sent": None,
        "last_delivery": None,
        "lease_owner": None,
        "lease_until": None,
    }
    return GroupRow(**{**base, **kw})


def item(key: str, *, state="firing", changed=True, created=T0, updated=None, seen=1) -> GroupItem:
    return GroupItem(
        group_id="g1",
        dedup_key=key,
        delivery_id=f"d-{key}",
        message_id=f"m-{key}",
        created=created,
        updated=created if updated is None else updated,
        severity="error",
        state=state,
        message="{}",
        seen=seen,
        changed=changed,
        sent_in=None if changed else "s-old",
    )


def channel(**policy) -> Channel:
    return Channel(name="ops", provider="webhook", url="https://x.example/h", **policy)


# -- which group a message joins ----------------------------------------------------------


def test_by_reads_every_kind_of_value():
    message = Message(
        title="Run 7 failed",
        event="training.failed",
        severity="critical",
        fields={"Model": "resnet"},
        data={"run": {"id": 7, "tags": ["a"]}, "site": "eu"},
    )
    assert label_value("event", message, None) == "training.failed"
    assert label_value("tenant", message, "acme") == "acme"
    assert label_value("tenant", message, None) == ""
    assert label_value("severity", message, None) == "critical"
    assert label_value("title", message, None) == "Run 7 failed"
    assert label_value("dedup_key", message, None) == "training.failed:Run 7 failed"
    assert label_value("fields.model", message, None) == "resnet"  # regardless of case
    assert label_value("fields.loss", message, None) == ""
    assert label_value("data.site", message, None) == "eu"
    assert label_value("data.run.id", message, None) == "7"
    assert label_value("data.run", message, None) == '{"id": 7, "tags": ["a"]}'
    assert label_value("data.run.id.deeper", message, None) == ""


def hold(message: Message, *, tenant=None, by=("event", "fields.model"), mask=lambda s: s):
    held = hold_for(
        channel(group=GroupPolicy(by=by)),
        message,
        tenant=tenant,
        delivery_id="d1",
        message_id="m1",
        stored="{}",
        mask=mask,
        row=0,
    )
    assert held is not None
    return held


def test_messages_with_the_same_by_values_share_a_group_and_tenants_never_do():
    a = Message(title="run 1", event="training.failed", fields={"model": "resnet"})
    b = Message(title="run 2", event="training.failed", fields={"model": "resnet"})
    c = Message(title="run 3", event="training.failed", fields={"model": "vit"})
    assert hold(a).group.id == hold(b).group.id
    assert hold(a).group.id != hold(c).group.id
    assert hold(a).group.id != hold(a, tenant="acme").group.id
    assert hold(a).group.key == "ops{event=training.failed,fields.model=resnet}"
    assert hold(a, tenant="acme").group.key.startswith("acme/ops{")
    assert json.loads(hold(a).group.labels) == {
        "event": "training.failed",
        "fields.model": "resnet",
    }
    assert hold(a).item.dedup_key == "training.failed:run 1"


def test_a_group_key_is_masked_like_the_stored_message():
    secret = "s3cr3t-t0ken-value"
    message = Message(title="x", event="e", fields={"model": secret})
    held = hold(message, mask=lambda s: s.replace(secret, "****"))
    assert secret not in held.group.key
    assert secret not in held.group.labels
    # the identity still tells values apart (a hash of them, never stored as text)
    other = hold(Message(title="x", event="e", fields={"model": "other-t0ken-value"}))
    assert held.group.id != other.group.id


def test_a_resolve_is_a_resolved_item_and_a_channel_without_policy_holds_nothing():
    assert hold(Message(title="x", state="resolve")).item.state == "resolved"
    assert hold(Message(title="x", state="acknowledge")).item.state == "firing"
    plain = hold_for(
        channel(),
        Message(title="x"),
        tenant=None,
        delivery_id="d",
        message_id="m",
        stored="{}",
        mask=str,
        row=0,
    )
    assert plain is None


# -- when a group is due -------------------------------------------------------------------

POLICY = GroupPolicy(wait=30, interval=300, repeat=4 * 3600)


def test_the_first_item_waits_for_company_then_news_waits_for_the_interval():
    fresh = group()
    assert arrival_due(POLICY, fresh, T0 + 5) == T0 + 30  # from the group's creation
    assert arrival_due(POLICY, group(due=T0 + 30), T0 + 20) == T0 + 30  # never later
    sent = group(last_sent=T0 + 30, due=T0 + 30 + 4 * 3600)
    assert arrival_due(POLICY, sent, T0 + 60) == T0 + 330  # last send + interval
    assert arrival_due(POLICY, sent, T0 + 1000) == T0 + 1000  # interval over: now
    # a sooner look (a forget) is kept; the flush then waits for the interval itself
    assert arrival_due(POLICY, group(last_sent=T0, due=T0 + 100), T0 + 50) == T0 + 100


def test_a_burst_goes_out_once_the_wait_is_over():
    items = [item(f"k{i}") for i in range(3)]
    early = plan_flush(POLICY, group(), items, T0 + 29)
    assert not early.send
    assert early.due_quiet == T0 + 30
    plan = plan_flush(POLICY, group(), items, T0 + 30)
    assert plan.send and not plan.repeat
    assert [i.dedup_key for i in plan.reported] == ["k0", "k1", "k2"]
    assert plan.new == {"k0", "k1", "k2"}
    assert plan.removed == ()
    # next: a repeat after 4 h, unless an item is forgotten first (1 d with a repeat)
    assert plan.due_quiet == T0 + 30 + 4 * 3600
    assert plan.due_changed == T0 + 30 + 300


def test_later_news_lists_the_live_items_too_with_the_news_first():
    sent = group(last_sent=T0 + 30)
    items = [item("old", changed=False), item("new", created=T0 + 60)]
    assert not plan_flush(POLICY, sent, items, T0 + 329).send  # the interval is not over
    plan = plan_flush(POLICY, sent, items, T0 + 330)
    assert plan.send and not plan.repeat
    assert [i.dedup_key for i in plan.reported] == ["new", "old"]
    assert plan.new == {"new"}


def test_an_unchanged_group_is_repeated_and_a_quiet_one_waits_for_news():
    sent = group(last_sent=T0)
    items = [item("a", changed=False, updated=T0 + 3600)]
    assert not plan_flush(POLICY, sent, items, T0 + 4 * 3600 - 1).send
    plan = plan_flush(POLICY, sent, items, T0 + 4 * 3600)
    assert plan.send and plan.repeat
    no_repeat = GroupPolicy(wait=30, interval=300)
    quiet = plan_flush(no_repeat, sent, items, T0 + 3600 + 1800)
    assert not quiet.send
    assert quiet.removed == ()
    assert quiet.due_quiet == T0 + 3600 + 3600  # only to forget it, an hour after its last
    gone = plan_flush(no_repeat, sent, items, T0 + 3600 + 3600)
    assert not gone.send
    assert gone.removed == tuple(items)


def test_items_not_seen_for_expire_are_forgotten_quietly():
    policy = GroupPolicy(wait=30, interval=300, expire=600)
    sent = group(last_sent=T0)
    items = [
        item("stale", changed=False, updated=T0),
        item("live", changed=False, updated=T0 + 500),
    ]
    plan = plan_flush(policy, sent, items, T0 + 600)
    assert not plan.send
    assert [i.dedup_key for i in plan.removed] == ["stale"]
    assert plan.due_quiet == T0 + 500 + 600


@pytest.mark.parametrize("resolved", ["send", "drop"])
def test_a_group_resolved_inside_its_wait(resolved):
    policy = GroupPolicy(wait=30, resolved=resolved)
    items = [item("a", state="resolved"), item("b", state="resolved")]
    plan = plan_flush(policy, group(), items, T0 + 30)
    assert {i.dedup_key for i in plan.removed} == {"a", "b"}  # done either way
    if resolved == "send":
        assert plan.send
        assert [i.state for i in plan.reported] == ["resolved", "resolved"]
        assert plan.dropped == ()
    else:
        assert not plan.send
        assert {i.dedup_key for i in plan.dropped} == {"a", "b"}


@pytest.mark.parametrize("resolved", ["send", "drop"])
def test_a_resolution_after_the_group_went_out(resolved):
    policy = GroupPolicy(wait=30, interval=300, resolved=resolved)
    sent = group(last_sent=T0 + 30)
    items = [item("a", state="resolved", updated=T0 + 100), item("b", changed=False)]
    plan = plan_flush(policy, sent, items, T0 + 330)
    assert [i.dedup_key for i in plan.removed] == ["a"]
    if resolved == "send":
        assert plan.send and not plan.repeat
        assert [(i.dedup_key, i.state) for i in plan.reported] == [
            ("b", "firing"),
            ("a", "resolved"),
        ]
    else:
        assert not plan.send
        assert [i.dedup_key for i in plan.dropped] == ["a"]


def test_what_notify_groups_says_a_group_will_do():
    items = [item("a"), item("b", changed=False)]
    assert outlook(POLICY, group(due=T0 + 30), items).what == "1 new"
    assert outlook(POLICY, group(due=T0 + 30), items).at == T0 + 30
    quiet = [item("a", changed=False, updated=T0)]
    repeat = outlook(POLICY, group(last_sent=T0, due=T0 + 4 * 3600), quiet)
    assert (repeat.at, repeat.what) == (T0 + 4 * 3600, "repeat of 1")
    none = outlook(GroupPolicy(), group(last_sent=T0, due=T0 + 3600), quiet)
    assert (none.at, none.what) == (None, "nothing until news")


# -- digest schedules ----------------------------------------------------------------------


def at(text: str, zone=BERLIN) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=zone).timestamp()


def local(ts: float) -> str:
    return datetime.fromtimestamp(ts, BERLIN).isoformat()


DAILY = DigestPolicy(days=1, at=(9, 0), timezone="Europe/Berlin")


def test_a_daily_digest_stays_at_nine_local_across_the_spring_change():
    # 2026-03-29 is the last Sunday of March: clocks go from 02:00 CET to 03:00 CEST
    saturday = DAILY.next_after(at("2026-03-28T08:00"))
    sunday = DAILY.next_after(saturday)
    monday = DAILY.next_after(sunday)
    assert [local(t) for t in (saturday, sunday, monday)] == [
        "2026-03-28T09:00:00+01:00",
        "2026-03-29T09:00:00+02:00",
        "2026-03-30T09:00:00+02:00",
    ]
    assert sunday - saturday == 23 * 3600  # the short day
    assert datetime.fromtimestamp(sunday, timezone.utc).hour == 7


def test_a_daily_digest_stays_at_nine_local_across_the_autumn_change():
    # 2026-10-25 is the last Sunday of October: clocks go from 03:00 CEST back to 02:00 CET
    saturday = DAILY.next_after(at("2026-10-24T08:59"))
    sunday = DAILY.next_after(saturday)
    assert [local(t) for t in (saturday, sunday)] == [
        "2026-10-24T09:00:00+02:00",
        "2026-10-25T09:00:00+01:00",
    ]
    assert sunday - saturday == 25 * 3600  # the long day
    assert DAILY.previous(sunday) == saturday


def test_times_that_do_not_exist_or_happen_twice_go_out_once():
    nightly = DigestPolicy(days=1, at=(2, 30), timezone="Europe/Berlin")
    spring = nightly.next_after(at("2026-03-29T00:00"))
    assert local(spring) == "2026-03-29T03:30:00+02:00"  # 02:30 never happened that night
    assert local(nightly.next_after(spring)) == "2026-03-30T02:30:00+02:00"
    autumn = nightly.next_after(at("2026-10-25T00:00"))
    assert local(autumn) == "2026-10-25T02:30:00+02:00"  # the first of the two 02:30s
    assert local(nightly.next_after(autumn)) == "2026-10-26T02:30:00+01:00"


def test_a_weekly_digest_goes_out_on_its_weekday():
    weekly = DigestPolicy(days=7, at=(9, 0), timezone="Europe/Berlin", weekday=0)
    first = weekly.next_after(at("2026-03-25T12:00"))  # a Wednesday
    second = weekly.next_after(first)
    assert [local(t) for t in (first, second)] == [
        "2026-03-30T09:00:00+02:00",  # Monday, after the change
        "2026-04-06T09:00:00+02:00",
    ]
    assert weekly.next_after(at("2026-03-30T08:59:59")) == first  # the same Monday
    assert weekly.label == "weekly on monday at 09:00 Europe/Berlin"
    assert attrs.evolve(weekly, weekday=None).weekday == 0  # Monday when not said


def test_a_digest_plan_sends_what_arrived_and_forgets_it():
    items = [item("a"), item("b", state="resolved")]
    plan = plan_flush(DAILY, group(kind="digest"), items, at("2026-03-29T09:00"))
    assert plan.send and [i.dedup_key for i in plan.reported] == ["a", "b"]
    assert plan.removed == tuple(items)
    assert plan.due_changed == at("2026-03-30T09:00")
    dropping = attrs.evolve(DAILY, resolved="drop")
    assert [i.dedup_key for i in plan_flush(dropping, group(), items, T0).reported] == ["a"]
    assert plan_flush(DAILY, group(), [], T0).send is False


@pytest.mark.parametrize("text", ["9", "25:00", "09:60", "9:5", "noon", "09:00:00"])
def test_clock_times_are_checked(text):
    with pytest.raises(ValueError, match="time of day"):
        parse_clock_time(text)


def test_unknown_time_zones_say_what_to_give():
    with pytest.raises(ValueError, match="IANA name"):
        DigestPolicy(timezone="Europe/Berln")
