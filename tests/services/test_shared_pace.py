"""``[notify] limiter = "redis://…"``: several ``notify worker`` processes keep one pace."""

from __future__ import annotations

import os
import subprocess
import sys

from notify_core import Message, Notifier
from notify_core.testing import query

CLI = [sys.executable, "-c", "import sys; from notify_core._cli import main; sys.exit(main())"]
ENV = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFY_")}


def test_two_workers_against_a_strict_sink_see_zero_429(recorder, redis_url, tmp_path):
    recorder.limit_per_second = 10  # the 11th request within a second is answered 429
    path = tmp_path / "notify.toml"
    path.write_text(f"""
[notify]
db = "pace.db"
limiter = "{redis_url}"

[channels.strict]
provider = "webhook"
url = "{recorder.url}/strict"
rate = {{ per_second = 9, burst = 1 }}
""")
    with Notifier.from_config(path, env={}) as n:
        for i in range(30):
            n.send(Message(title=f"m{i}"), wait=0)
    workers = [
        subprocess.Popen(
            [*CLI, "worker", "--once", "--concurrency", "4"],
            cwd=tmp_path,
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=120) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    assert all("delivered" in out for out, _ in outputs), "both workers took part"
    assert recorder.rejected == 0
    rows = query(tmp_path / "pace.db", "SELECT status, attempts FROM deliveries")
    assert rows == [{"status": "delivered", "attempts": 1}] * 30
