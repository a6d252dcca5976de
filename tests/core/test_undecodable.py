"""Undecodable bytes (a latin-1 log line, a stray 0xFF) become U+FFFD; the message goes out."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from notify_core import Channel, Message, Providers
from notify_core._outbox import payload_record
from notify_core.plugin import Masker

PROVIDERS = Providers.discover()
CHANNELS = [
    Channel(name="w", provider="webhook", url="https://example.com/hook"),
    Channel(
        name="s", provider="slack", url="https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXX"
    ),
    Channel(
        name="t",
        provider="teams",
        url="https://prod-00.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/"
        "invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=SIGSIGSIGSIG",
    ),
    Channel(name="p", provider="pagerduty", options={"routing_key": "R" * 32}),
    Channel(name="c", provider="console"),
]
CLI = [sys.executable, "-c", "import sys; from notify_core._cli import main; sys.exit(main())"]


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_make_a_message_every_provider_can_send(raw):
    text = raw.decode("utf-8", errors="surrogateescape")  # what argv and os.environ hold
    message = Message(
        title=text, body=text, fields={text or "k": text}, tags=(text,), data={"log": text}
    )
    for part in (message.title, message.body, message.fields[0].value, message.data["log"]):
        part.encode("utf-8")  # encodable: bad bytes became U+FFFD, good text stayed
    if raw.isascii():
        assert message.title == text
    for channel in CHANNELS:
        payload = PROVIDERS.build(channel, message, "d1")
        payload.content()  # the bytes that would be sent
        json.loads(payload_record(payload, Masker()))


def test_a_latin1_body_on_stdin_and_a_bad_title_are_delivered(recorder, tmp_path):
    (tmp_path / "notify.toml").write_text(
        f'[channels.hook]\nprovider = "webhook"\nurl = "{recorder.url}/hook"\n'
        '[channels.slack]\nprovider = "slack"\n'
        'url = "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXX"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFY_")}
    env["NOTIFY_REROUTE"] = f"https://hooks.slack.com={recorder.url}"
    result = subprocess.run(
        [*(a.encode() for a in CLI), b"send", b"-t", b"disk \xff full", b"-b", b"-", b"--json"],
        input=b"caf\xe9 au lait\n",
        capture_output=True,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert {d["status"] for d in json.loads(result.stdout)["deliveries"]} == {"delivered"}
    hook = recorder.to("/hook")[0].json()
    assert hook["title"] == "disk \ufffd full"
    assert hook["body"] == "caf\ufffd au lait\n"
    assert len(recorder.requests) == 2
