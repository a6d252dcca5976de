"""Floods, auto-disable, cooldowns and silences."""

from __future__ import annotations

import json

from notify_core import Message, Notifier, Providers, parse_config
from notify_core._store import Silence
from notify_core.testing import Answer, FakeClock, query

PROVIDERS = Providers.discover()


def notifier(tmp_path, channels: dict, clock=None, **core) -> Notifier:
    config = parse_config({"notify": core, "channels": channels}, PROVIDERS, env={})
    return Notifier(config=config, db=tmp_path / "p.db", providers=PROVIDERS, env={}, clock=clock)


def webhook(url: str, **extra) -> dict:
    return {"provider": "webhook", "url": url, **extra}


def test_strict_rate_limit_sees_zero_429(recorder, notify_cli, tmp_path):
    rate = 40
    recorder.limit_per_second = rate + 1  # a bucket of burst 1 allows rate*T + 1 in T seconds
    (tmp_path / "notify.toml").write_text(f"""
[notify]
db = "p.db"
[channels.limited]
provider = "webhook"
url = "{recorder.url}/limited"
rate = {{ per_second = {rate}, burst = 1 }}
""")
    with Notifier.from_config(tmp_path / "notify.toml", db=tmp_path / "p.db", env={}) as n:
        for i in range(100):
            n.send(Message(title=f"m{i}"), wait=0)
    # the worker runs in its own process, as in production: the server's clock is not
    # disturbed by the sender sharing its interpreter
    worker = notify_cli("worker", "--once", "--concurrency", "20")
    assert worker.returncode == 0, worker.stderr
    assert recorder.rejected == 0
    assert len(recorder.requests) == 100
    arrivals = [r.received for r in recorder.requests]
    # paced, not bunched: the span is close to 100 / rate (a behaviour of the bucket)
    assert max(arrivals) - min(arrivals) >= (100 - 1) / rate * 0.95


def test_each_channel_has_its_own_bucket(recorder, tmp_path):
    recorder.limit_per_second = 21
    channels = {
        name: webhook(f"{recorder.url}/{name}", rate={"per_second": 20, "burst": 1})
        for name in ("a", "b", "c")
    }
    with notifier(tmp_path, channels) as n:
        for i in range(20):
            n.send(Message(title=f"m{i}"), wait=0)
        totals = __import__("asyncio").run(n.run_worker(once=True, concurrency=30))
    assert totals["delivered"] == 60
    assert recorder.rejected == 0
    # the channels ran side by side: each one's first request came before any one's last
    firsts = [recorder.to(f"/{c}")[0].received for c in "abc"]
    lasts = [recorder.to(f"/{c}")[-1].received for c in "abc"]
    assert max(firsts) < min(lasts)


def test_auto_disable_then_skip_then_enable(recorder, notify_cli, tmp_path):
    recorder.default = Answer(404, "no_service")
    (tmp_path / "notify.toml").write_text(f"""
[notify]
db = "p.db"
auto_disable_after = 3
[channels.gone]
provider = "webhook"
url = "{recorder.url}/gone"
""")
    for _ in range(4):
        notify_cli("send", "-t", "x", "--to", "gone")
    assert len(recorder.requests) == 3
    statuses = [
        r["status"]
        for r in query(tmp_path / "p.db", "SELECT status FROM deliveries ORDER BY created")
    ]
    assert statuses == ["failed", "failed", "failed", "skipped"]
    [listed] = json.loads(notify_cli("channels", "--json").stdout)
    assert listed["state"].startswith("auto-disabled after 3 consecutive failures; last: ")
    assert "no_service" in listed["state"]
    assert notify_cli("enable", "gone").returncode == 0
    recorder.default = Answer(200, "ok")
    assert notify_cli("send", "-t", "y", "--to", "gone").returncode == 0


def test_cooldown_suppresses_repeats_of_one_dedup_key(recorder, tmp_path):
    with notifier(tmp_path, {"c": webhook(f"{recorder.url}/c", cooldown="5m")}) as n:
        first = n.send(Message(title="Disk full", event="host.disk")).deliveries[0]
        again = n.send(Message(title="Disk full", event="host.disk")).deliveries[0]
        other = n.send(Message(title="Disk full", event="host.disk", dedup_key="host-2"))
        different = n.send(Message(title="CPU hot", event="host.cpu")).deliveries[0]
    assert first.status == "delivered"
    assert again.status == "skipped"
    assert again.reason == f"cooldown: repeats delivery {first.id} within 300s"
    assert other.deliveries[0].status == "delivered"
    assert different.status == "delivered"
    assert len(recorder.requests) == 3


def test_cooldown_window_ends(recorder, tmp_path):
    clock = FakeClock()
    with notifier(tmp_path, {"c": webhook(f"{recorder.url}/c", cooldown=300)}, clock) as n:
        n.send(Message(title="flap", event="e"))
        clock.advance(299)
        inside = n.send(Message(title="flap", event="e")).deliveries[0]
        clock.advance(2)
        later = n.send(Message(title="flap", event="e")).deliveries[0]
    assert inside.status == "skipped"
    assert later.status == "delivered"


def test_silences_from_the_cli(recorder, notify_cli, tmp_path):
    (tmp_path / "notify.toml").write_text(f"""
[notify]
db = "p.db"
[channels.ml]
provider = "webhook"
url = "{recorder.url}/ml"
[channels.ops]
provider = "webhook"
url = "{recorder.url}/ops"
""")
    made = notify_cli(
        "silence",
        "--event",
        "training.*",
        "--channel",
        "ml",
        "--for",
        "2h",
        "--reason",
        "GPU maintenance",
        "--json",
    )
    assert made.returncode == 0, made.stderr
    silence = json.loads(made.stdout)
    listed = json.loads(notify_cli("silences", "--json").stdout)
    assert [s["id"] for s in listed] == [silence["id"]]
    assert listed[0]["reason"] == "GPU maintenance"

    sent = json.loads(
        notify_cli("send", "-t", "run 7 failed", "--event", "training.failed", "--json").stdout
    )
    by_channel = {d["channel"]: d for d in sent["deliveries"]}
    assert by_channel["ml"]["status"] == "skipped"
    assert by_channel["ml"]["reason"].startswith(f"silenced by {silence['id']} until")
    assert by_channel["ml"]["reason"].endswith("GPU maintenance")
    assert by_channel["ops"]["status"] == "delivered"
    other = json.loads(
        notify_cli("send", "-t", "pipeline", "--event", "pipeline.failed", "--json").stdout
    )
    assert all(d["status"] == "delivered" for d in other["deliveries"])

    assert notify_cli("unsilence", silence["id"]).returncode == 0
    assert json.loads(notify_cli("silences", "--json").stdout) == []
    after = json.loads(
        notify_cli("send", "-t", "run 8", "--event", "training.failed", "--json").stdout
    )
    assert all(d["status"] == "delivered" for d in after["deliveries"])


def test_expired_silences_stop_applying(recorder, tmp_path):
    clock = FakeClock()
    with notifier(tmp_path, {"c": webhook(f"{recorder.url}/c")}, clock) as n:
        now = clock.time()
        n.store.add_silence(
            Silence(
                id="s1",
                created=now,
                until=now + 3600,
                event="*",
                channel=None,
                tenant=None,
                reason="maintenance",
            )
        )
        assert n.send(Message(title="a")).deliveries[0].status == "skipped"
        clock.advance(3601)
        assert n.send(Message(title="b")).deliveries[0].status == "delivered"
        assert n.store.silences(active_at=clock.time()) == []
        assert len(n.store.silences()) == 1


def test_silence_of_an_unknown_channel_is_refused(notify_cli, tmp_path, recorder):
    (tmp_path / "notify.toml").write_text(
        f'[channels.ml]\nprovider = "webhook"\nurl = "{recorder.url}/ml"\n'
    )
    result = notify_cli("silence", "--event", "*", "--channel", "mll", "--for", "1h")
    assert result.returncode == 2
    assert "unknown channel 'mll'" in result.stderr


def test_an_auto_disabled_channel_is_announced_to_the_channels_that_take_the_event(
    recorder, notify_cli, tmp_path
):
    recorder.script(*[Answer(404, "no_service")] * 3, path="/gone")
    (tmp_path / "notify.toml").write_text(f"""
[notify]
db = "p.db"
auto_disable_after = 3
[channels.gone]
provider = "webhook"
url = "{recorder.url}/gone"
events = ["*"]
[channels.owner]
provider = "webhook"
url = "{recorder.url}/owner"
events = ["notify.channel.disabled"]
""")
    for _ in range(4):
        notify_cli("send", "-t", "x", "--to", "gone")
    [news] = recorder.to("/owner")
    body = news.json()
    assert body["event"] == "notify.channel.disabled"
    assert body["severity"] == "error"
    assert "notify disabled channel gone after 3 failures" in body["title"]
    assert "notify enable gone" in body["body"]
    assert "HTTP 404: no_service" in body["body"]
    # the channel never hears about itself, and nothing announces twice
    assert len(recorder.to("/gone")) == 3
    rows = query(
        tmp_path / "p.db",
        "SELECT channel, status FROM deliveries WHERE event = ?",
        "notify.channel.disabled",
    )
    assert rows == [{"channel": "owner", "status": "delivered"}]
