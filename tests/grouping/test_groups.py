"""Grouping and digests end to end in one process: a real SQLite file, a real HTTP sink,
the real worker loop, and time moved by hand (FakeClock) instead of slept through."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from notify_core import ConfigError, Message, Notifier, Providers, parse_config
from notify_core._grouping import Flusher
from notify_core.testing import FakeClock, RecordingServer, query, stored_bytes

PROVIDERS = Providers.discover()
FAST = {"per_second": 10_000, "burst": 1_000}


def config(recorder: RecordingServer, **policies) -> dict:
    channels = {
        name: {"provider": "webhook", "url": f"{recorder.url}/{name}", "rate": FAST, **policy}
        for name, policy in policies.items()
    }
    return {"channels": channels}


def notifier(tmp_path: Path, data: dict, clock: FakeClock, **kwargs) -> Notifier:
    parsed = parse_config(data, PROVIDERS, env={})
    return Notifier(
        config=parsed, db=tmp_path / "g.db", providers=PROVIDERS, env={}, clock=clock, **kwargs
    )


def work(n: Notifier) -> dict[str, int]:
    """One pass of the real worker loop: flush due groups, send what is due."""
    return asyncio.run(n.run_worker(once=True))


def bodies(recorder: RecordingServer, path: str = "/ops") -> list[dict]:
    return [r.json() for r in recorder.to(path)]


def check(i: int, **kw) -> Message:
    base = {
        "title": f"check {i} failed",
        "event": "check.failed",
        "fields": {"table": f"t{i}"},
        "actions": {"Open check": f"https://dq.example.com/checks/{i}"},
    }
    return Message(**{**base, **kw})


def rows(tmp_path: Path, sql: str = "SELECT * FROM deliveries ORDER BY created, id", *args):
    return query(tmp_path / "g.db", sql, *args)


def summaries(tmp_path: Path) -> list[dict]:
    return rows(
        tmp_path,
        "SELECT * FROM deliveries WHERE last_error IS NULL OR last_error NOT LIKE 'grouped:%'"
        " ORDER BY created, id",
    )


GROUP = {"group": {"by": ["event"], "wait": "30s", "interval": "5m"}}


def test_a_burst_of_forty_becomes_one_message_after_the_wait(recorder, tmp_path):
    clock = FakeClock()
    with notifier(tmp_path, config(recorder, ops=GROUP), clock) as n:
        results = [
            n.send(check(i, severity="critical" if i == 7 else "warning")) for i in range(40)
        ]
        assert all(r.ok for r in results)  # accepted into the group: nothing left to wait for
        first = results[0].deliveries[0]
        assert first.status == "skipped"
        assert first.reason == (
            "grouped: goes out with group ops{event=check.failed} by "
            + datetime.fromtimestamp(clock.time() + 30).strftime("%Y-%m-%d %H:%M:%S")
        )
        clock.advance(29)
        work(n)
        assert recorder.requests == []  # still waiting for company
        clock.advance(1)
        assert work(n)["delivered"] == 1
        [body] = bodies(recorder)
        group = body["data"]["group"]
        assert body["title"] == "40 × check.failed"
        assert body["severity"] == "critical"  # the highest of the items
        assert body["dedup_key"] == f"notify.group:{group['id']}"
        assert group["count"] == 40 and group["new"] == 40 and group["truncated"] == 0
        assert [i["title"] for i in group["items"]] == [f"check {i} failed" for i in range(40)]
        assert group["items"][3]["fields"] == [{"name": "table", "value": "t3"}]
        assert group["items"][3]["links"] == [
            {"label": "Open check", "url": "https://dq.example.com/checks/3"}
        ]
        lines = body["body"].splitlines()
        assert lines[0] == (
            "- check 0 failed (table: t0) · [Open check](https://dq.example.com/checks/0)"
        )
        assert lines[-1] == "… and 30 more"
        assert len(lines) == 11
        assert [a["url"] for a in body["actions"]] == [
            f"https://dq.example.com/checks/{i}" for i in range(5)
        ]
        # later passes send nothing more: the group went out, nothing is news
        clock.advance(3600 - 31)
        work(n)
        assert len(recorder.requests) == 1
    [summary] = summaries(tmp_path)
    assert summary["status"] == "delivered" and summary["event"] == "check.failed"
    grouped = rows(tmp_path, "SELECT last_error FROM deliveries WHERE id != ?", summary["id"])
    assert {r["last_error"] for r in grouped} == {
        f"grouped: went out in delivery {summary['id']} with group ops{{event=check.failed}}"
    }
    assert len(grouped) == 40
    carried = rows(tmp_path, "SELECT * FROM group_carried WHERE delivery_id = ?", summary["id"])
    assert len(carried) == 40 and all(c["new"] == 1 for c in carried)


def test_news_goes_out_at_most_every_interval_with_the_live_items(recorder, tmp_path):
    clock = FakeClock()
    with notifier(tmp_path, config(recorder, ops=GROUP), clock) as n:
        for i in range(3):
            n.send(check(i))
        clock.advance(30)
        work(n)
        clock.advance(60)
        late = [n.send(check(i)) for i in (3, 4)]
        assert (
            late[0]
            .deliveries[0]
            .reason.endswith(
                datetime.fromtimestamp(clock.time() - 60 + 300).strftime("%Y-%m-%d %H:%M:%S")
            )
        )  # by the end of the interval that began with the last summary
        clock.advance(239)
        work(n)
        assert len(recorder.requests) == 1  # the interval is not over
        clock.advance(1)
        work(n)
        first, second = bodies(recorder)
        assert first["data"]["group"]["count"] == 3
        group = second["data"]["group"]
        assert second["title"] == "5 × check.failed (2 new)"
        assert group["count"] == 5 and group["new"] == 2
        assert [(i["title"], i["new"]) for i in group["items"]][:3] == [
            ("check 3 failed", True),
            ("check 4 failed", True),
            ("check 0 failed", False),
        ]
        assert second["body"].splitlines()[0].startswith("- new: check 3 failed")
        assert second["dedup_key"] == first["dedup_key"]  # one group, one incident


def test_a_repeat_of_an_item_is_not_news_and_an_unchanged_group_is_repeated(recorder, tmp_path):
    policy = {"group": {"by": ["event"], "wait": "30s", "interval": "5m", "repeat": "4h"}}
    clock = FakeClock()
    with notifier(tmp_path, config(recorder, ops=policy), clock) as n:
        n.send(check(1, dedup_key="orders-null-check"))
        clock.advance(30)
        work(n)
        assert len(recorder.requests) == 1
        again = None
        for _ in range(10):  # a flapping check: the same alert every ten minutes
            clock.advance(600)
            again = n.send(check(1, dedup_key="orders-null-check", body="still failing"))
            work(n)
        assert len(recorder.requests) == 1  # the flap was suppressed
        assert again is not None
        assert again.deliveries[0].reason.startswith("grouped: already sent in delivery ")
        clock.advance(4 * 3600 - 6000)  # four hours after the summary
        work(n)
        assert len(recorder.requests) == 2
        repeat = bodies(recorder)[1]
        assert repeat["data"]["group"]["repeat"] is True
        assert repeat["data"]["group"]["new"] == 0
        assert repeat["data"]["group"]["items"][0]["seen"] == 11
        assert repeat["body"] == "still failing"  # the latest message with that key counts


@pytest.mark.parametrize("resolved", ["drop", "send"])
def test_a_burst_that_resolves_inside_the_wait(recorder, tmp_path, resolved):
    policy = {"group": {"by": ["event"], "wait": "30s", "resolved": resolved}}
    clock = FakeClock()
    with notifier(tmp_path, config(recorder, ops=policy), clock) as n:
        for i in range(2):
            n.send(check(i, dedup_key=f"k{i}"))
        clock.advance(10)
        ends = [n.send(check(i, dedup_key=f"k{i}", state="resolve")) for i in range(2)]
        clock.advance(20)
        work(n)
        assert n.store.groups() == []  # nothing left either way
    grouped = rows(tmp_path)
    if resolved == "drop":
        assert recorder.requests == []
        reason = 'grouped: resolved; not sent (group ops{event=check.failed} has resolved = "drop")'
        assert [r["last_error"] for r in grouped if r["id"] == ends[0].deliveries[0].id] == [reason]
    else:
        [body] = bodies(recorder)
        assert body["title"] == "Resolved: 2 × check.failed"
        assert body["state"] == "resolve"
        assert [i["state"] for i in body["data"]["group"]["items"]] == ["resolved"] * 2
    # the first messages were replaced by their resolutions, and say so
    replaced = [r["last_error"] for r in grouped][:2]
    assert all(" by delivery " in r and "(same dedup key)" in r for r in replaced)


@pytest.mark.parametrize("resolved", ["drop", "send"])
def test_a_resolution_after_the_group_went_out(recorder, tmp_path, resolved):
    policy = {"group": {"by": ["event"], "wait": "30s", "interval": "5m", "resolved": resolved}}
    clock = FakeClock()
    with notifier(tmp_path, config(recorder, ops=policy), clock) as n:
        n.send(check(1, dedup_key="a"))
        n.send(check(2, dedup_key="b"))
        clock.advance(30)
        work(n)
        clock.advance(60)
        n.send(check(1, dedup_key="a", state="resolve"))
        clock.advance(240)
        work(n)
        [group] = n.store.groups()
        assert [i.dedup_key for i in n.store.group_items(group.id)] == ["b"]
    if resolved == "drop":
        assert len(recorder.requests) == 1
    else:
        _, second = bodies(recorder)
        assert second["title"] == "1 × check.failed (1 resolved)"
        assert [(i["dedup_key"], i["state"]) for i in second["data"]["group"]["items"]] == [
            ("b", "firing"),
            ("a", "resolved"),
        ]
        assert second["state"] == "trigger"  # b still fires


def test_a_group_of_one_sends_that_message_and_forgotten_items_leave(recorder, tmp_path):
    policy = {"group": {"wait": "30s", "expire": "10m"}}
    clock = FakeClock()
    with notifier(tmp_path, config(recorder, ops=policy), clock) as n:
        n.send(check(1, body="row count 0", severity="error"))
        clock.advance(30)
        work(n)
        [body] = bodies(recorder)
        assert body["title"] == "check 1 failed" and body["body"] == "row count 0"
        assert body["actions"][0]["label"] == "Open check"
        assert body["data"]["group"]["count"] == 1
        assert len(n.store.groups()) == 1
        clock.advance(600)
        work(n)
        assert n.store.groups() == []  # forgotten quietly
        assert len(recorder.requests) == 1
        n.send(check(1))  # news again: a new group waits again
        clock.advance(30)
        work(n)
        assert len(recorder.requests) == 2


def test_only_grouping_channels_hold_messages_and_tenants_never_share_a_group(recorder, tmp_path):
    clock = FakeClock()
    data = config(recorder, ops={"group": {"by": ["event"], "wait": "30s"}}, audit={})
    with notifier(tmp_path, data, clock) as n:
        result = n.send(check(1))
        by_channel = {d.channel: d for d in result.deliveries}
        assert by_channel["audit"].status == "delivered"  # sent at once, as always
        assert by_channel["ops"].status == "skipped"
        assert result.ok
        n.send(check(2), tenant="acme")
        n.send(check(3), tenant="globex")
        keys = sorted(g.key for g in n.store.groups())
        assert keys == [
            "acme/ops{event=check.failed}",
            "globex/ops{event=check.failed}",
            "ops{event=check.failed}",
        ]
        clock.advance(30)
        work(n)
        tenants = sorted(b["tenant"] or "-" for b in bodies(recorder))
        assert tenants == ["-", "acme", "globex"]


def test_two_workers_never_send_one_group_twice_and_a_dead_claim_expires(recorder, tmp_path):
    clock = FakeClock()
    data = config(recorder, ops=GROUP)
    with notifier(tmp_path, data, clock) as a, notifier(tmp_path, data, clock) as b:
        for i in range(5):
            a.send(check(i))
        clock.advance(30)
        # worker a claims the group, builds its summary, and stalls before writing it
        [claimed] = a.store.claim_groups(a.owner, limit=10, lease=60)
        stalled = Flusher(a.store, a.outbox, None, owner=a.owner, lease=60, clock=clock)
        late = stalled.settlement(claimed, clock.time())
        assert late.summary is not None
        assert b.store.claim_groups(b.owner, limit=10, lease=60) == []
        work(b)
        assert recorder.requests == []  # the group is a's until its claim ends
        clock.advance(61)
        work(b)
        assert len(recorder.requests) == 1
        # a wakes up: its settlement is refused, and nothing of it is written
        assert a.store.settle_group(late) is False
        assert a.store.get(late.summary.id) is None
        work(a)
        work(b)
    assert len(recorder.requests) == 1
    assert len(summaries(tmp_path)) == 1


def test_a_channel_that_is_gone_still_flushes_what_it_held(recorder, tmp_path):
    clock = FakeClock()
    with notifier(tmp_path, config(recorder, ops=GROUP), clock) as n:
        n.send(check(1))
        n.send(check(2))
    clock.advance(30)
    with notifier(tmp_path, config(recorder, other={}), clock) as n:
        work(n)
        assert n.store.groups() == []
    [summary] = summaries(tmp_path)
    assert summary["status"] == "failed"
    assert summary["last_error"] == "channel 'ops' is no longer configured"
    assert json.loads(summary["message"])["data"]["group"]["count"] == 2
    assert recorder.requests == []


BERLIN = ZoneInfo("Europe/Berlin")


def berlin(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN).timestamp()


@pytest.mark.parametrize(
    ("start", "first", "second"),
    [
        # the last Sunday of March: 09:00 CET on Saturday, 09:00 CEST on Sunday
        ("2026-03-28T10:00", "2026-03-29T09:00", "2026-03-30T09:00"),
        # the last Sunday of October: 09:00 CEST on Saturday, 09:00 CET on Sunday
        ("2026-10-24T10:00", "2026-10-25T09:00", "2026-10-26T09:00"),
    ],
)
def test_a_daily_digest_goes_out_at_nine_local_across_a_dst_change(
    recorder, tmp_path, start, first, second
):
    policy = {"digest": {"every": "1d", "at": "09:00", "timezone": "Europe/Berlin"}}
    clock = FakeClock(start=berlin(start))
    with notifier(tmp_path, config(recorder, ops=policy), clock) as n:
        sent = n.send(check(1))
        assert sent.deliveries[0].reason == (
            "grouped: goes out with digest ops{} at "
            + datetime.fromtimestamp(berlin(first)).strftime("%Y-%m-%d %H:%M:%S")
        )
        n.send(check(2, severity="error"))
        n.send(Message(title="backup done", event="backup.done"))
        clock.advance(berlin(first) - clock.time() - 1)
        work(n)
        assert recorder.requests == []
        clock.advance(1)
        work(n)
        [digest] = bodies(recorder)
        assert digest["title"] == "Daily digest: 3 × notifications"
        assert digest["body"].splitlines()[0].startswith("Since Sat ")
        assert digest["data"]["group"]["kind"] == "digest"
        assert digest["severity"] == "error"
        assert n.store.groups() == []  # a digest forgets what it reported
        n.send(check(3))
        clock.advance(berlin(second) - clock.time())
        work(n)
        assert len(recorder.requests) == 2
    created = [r["created"] for r in summaries(tmp_path)]
    assert created == [berlin(first), berlin(second)]  # 09:00 local, each day


@pytest.mark.parametrize(
    ("policy", "error"),
    [
        ({"group": {"wait": "soon"}}, "channels.ops.group.wait: expected a duration"),
        ({"group": {"by": ["model"]}}, "channels.ops.group.by[0]: cannot group by 'model'"),
        ({"group": {"resolved": "keep"}}, 'channels.ops.group.resolved: expected "send" or'),
        ({"group": {"wiat": "1s"}}, "channels.ops.group.wiat: unknown key (did you mean 'wait'"),
        ({"group": {"show": 0}}, "channels.ops.group.show: must be at least 1"),
        ({"group": {"repeat": 0}}, "channels.ops.group.repeat: must be longer than 0"),
        ({"group": "yes"}, "channels.ops.group: expected a table"),
        ({"digest": {}}, "channels.ops.digest.every: missing"),
        ({"digest": {"every": "2h"}}, 'channels.ops.digest.every: a digest goes out every "1d"'),
        ({"digest": {"every": "1d", "at": "9am"}}, "channels.ops.digest.at: expected a time"),
        ({"digest": {"every": "1d", "on": "monday"}}, "channels.ops.digest.on: a weekday goes"),
        ({"digest": {"every": "7d", "on": "mon-day"}}, "channels.ops.digest.on: expected a week"),
        (
            {"digest": {"every": "1d", "timezone": "Mars/Olympus"}},
            "channels.ops.digest.timezone: unknown time zone 'Mars/Olympus'",
        ),
        (
            {"group": {}, "digest": {"every": "1d"}},
            "channels.ops.digest: a channel takes group or digest, not both",
        ),
    ],
)
def test_bad_group_and_digest_tables_name_the_key(policy, error):
    data = {"channels": {"ops": {"provider": "webhook", "url": "https://x.example/h", **policy}}}
    problems: list[ConfigError] = []
    [channel] = parse_config(data, PROVIDERS, env={}, problems=problems).channels
    # like any broken channel: kept with its problem (its deliveries fail with it)
    assert [str(p) for p in problems] == [channel.problem]
    assert error in str(channel.problem)
    assert "\n" not in str(channel.problem)


def test_no_secret_reaches_the_store_through_a_group(recorder, tmp_path):
    token = "Zq8sEcReT0kEn4x9Wm2L"
    data = {
        "channels": {
            "ops": {
                "provider": "webhook",
                "url": f"{recorder.url}/hooks/{token}",
                "rate": FAST,
                "group": {"by": ["event", "fields.echo"], "wait": "30s"},
            }
        }
    }
    clock = FakeClock()
    with notifier(tmp_path, data, clock) as n:
        for i in range(3):  # a careless caller echoes the channel's token in a message
            n.send(check(i, fields={"echo": token}, body=f"posted to .../{token}"))
        [group] = n.store.groups()
        assert token not in group.key and "****" in group.key
        clock.advance(30)
        work(n)
    assert len(recorder.requests) == 1
    assert token.encode() not in stored_bytes(tmp_path / "g.db")
