"""Starting, guarding and stopping ``notify serve``: tokens, binds, the optional package,
cross-site requests, and a graceful stop that finishes or releases work in flight."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from notify_core.testing import Answer, RecordingServer, query, run_notify

from .conftest import HOOK_SECRET, TOKEN, Served, start_serve, wait_until, webhook_config

#: Routes that are not in the OpenAPI document but need a token all the same.
UNDOCUMENTED = ["/openapi.json", "/ui", "/ui/channels", "/"]


def _routes(served: Served) -> list[tuple[str, str]]:
    with served.client() as client:
        doc = client.get("/openapi.json").json()
    routes = [
        (
            method.upper(),
            path.replace("{delivery_id}", "x")
            .replace("{name}", "hook")
            .replace("{silence_id}", "x"),
        )
        for path, item in doc["paths"].items()
        for method in item
    ]
    return [*routes, *(("GET", p) for p in UNDOCUMENTED)]


def test_without_a_token_every_route_but_healthz_answers_401(
    serve: Any, recorder: RecordingServer
) -> None:
    served: Served = serve(webhook_config(recorder), "--no-worker", token=TOKEN)
    routes = _routes(served)
    assert ("POST", "/v1/events") in routes and ("GET", "/metrics") in routes
    answers = {}
    with served.client(token=False) as anonymous, served.client(token="x" * 40) as wrong:
        for method, path in routes:
            answers[method, path] = (
                anonymous.request(method, path, json={}).status_code,
                wrong.request(method, path, json={}).status_code,
            )
        health = anonymous.get("/healthz")
        bearer = anonymous.get("/v1/channels", headers={"Authorization": f"Basic {TOKEN}"})
    assert answers.pop(("GET", "/healthz")) == (200, 200)
    assert {k: v for k, v in answers.items() if v != (401, 401)} == {}
    assert health.json() == {"status": "ok"}
    assert bearer.status_code == 401
    with served.client() as client:
        assert client.get("/v1/channels").status_code == 200
        assert client.get("/metrics").status_code == 200
    assert query(served.db, "SELECT id FROM deliveries") == []


def test_listening_beyond_loopback_needs_a_token(tmp_path: Path, recorder: RecordingServer) -> None:
    refused = start_serve(tmp_path, webhook_config(recorder), "--host", "0.0.0.0")
    assert isinstance(refused, subprocess.CompletedProcess)
    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert lines == [
        "notify: error: notify serve: refusing to listen on 0.0.0.0 without a token; set "
        "[serve] tokens in notify.toml or NOTIFY_SERVE_TOKENS, or listen on 127.0.0.1"
    ]
    short = start_serve(
        tmp_path,
        webhook_config(recorder, "[serve]", 'tokens = ["${T}"]'),
        env={"T": "short"},
        name="short",
    )
    assert isinstance(short, subprocess.CompletedProcess) and short.returncode == 2
    assert "serve.tokens[0]: a token must be at least 16 characters" in short.stderr
    assert "short" not in short.stderr.replace("short.toml", "")


def test_a_token_from_notify_toml_is_honoured(serve: Any, recorder: RecordingServer) -> None:
    config = webhook_config(recorder, "[serve]", 'tokens = ["${MY_TOKEN}"]')
    served: Served = serve(config, "--no-worker", env={"MY_TOKEN": TOKEN})
    with served.client(token=False) as anonymous, served.client(token=TOKEN) as client:
        assert anonymous.get("/v1/channels").status_code == 401
        assert client.get("/v1/channels").status_code == 200


def test_without_tokens_foreign_hosts_and_cross_site_writes_are_refused(
    serve: Any, recorder: RecordingServer
) -> None:
    served: Served = serve(webhook_config(recorder), "--no-worker")
    with served.client() as client:
        rebinding = client.get("/v1/channels", headers={"Host": "evil.example.com:8765"})
        cross_site = client.post(
            "/v1/channels/hook/disable", headers={"Origin": "https://evil.example.com"}
        )
        same_site = client.post("/v1/channels/hook/disable", headers={"Origin": served.url})
        form = client.post("/ui/channels/hook/disable", data={"csrf": "forged"})
    assert rebinding.status_code == 421
    assert cross_site.status_code == 403 and "cross-site" in cross_site.json()["error"]
    assert same_site.status_code == 200
    assert form.status_code == 403 and form.json()["error"].startswith("csrf:")


def test_notify_serve_without_the_package_says_how_to_get_it(tmp_path: Path) -> None:
    shadow = tmp_path / "shadow" / "notify_serve"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'notify_serve'\", name='notify_serve')\n"
    )
    (tmp_path / "notify.toml").write_text("")
    result = run_notify("serve", cwd=tmp_path, env={"PYTHONPATH": str(tmp_path / "shadow")})
    assert result.returncode == 2
    assert (
        result.stderr == "notify serve needs the notify-serve package: pip install notify-serve\n"
    )


def test_other_commands_do_not_import_the_server(tmp_path: Path) -> None:
    code = (
        "import sys; from notify_core._cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('notify_serve', 'fastapi', 'uvicorn', 'jinja2',"
        " 'prometheus_client') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    assert "serve" in result.stdout  # the command is listed
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_sigterm_finishes_in_flight_work_and_releases_what_outlasts_the_grace(
    serve: Any, recorder: RecordingServer
) -> None:
    slow = f"/hook?token={HOOK_SECRET}"
    recorder.script(Answer(200, "ok", delay=0.5), Answer(200, "late", delay=6), path=slow)
    served: Served = serve(webhook_config(recorder), "--grace", "1")
    with served.client() as client:
        quick = client.post("/v1/messages", json={"message": {"title": "a"}, "channels": ["hook"]})
        wait_until(lambda: len(recorder.requests) >= 1, what="the first attempt")
        code_before = served.proc.poll()
        served.proc.send_signal(signal.SIGTERM)
        assert served.proc.wait(30) == 0
    assert code_before is None
    quick_id = quick.json()["deliveries"][0]["id"]
    [row] = query(served.db, "SELECT status, lease_owner FROM deliveries WHERE id = ?", quick_id)
    assert row == {"status": "delivered", "lease_owner": None}
    assert "notify serve: stopped" in served.output()

    # a second one outlasts the grace: it is handed back to the outbox, not left leased
    again: Served = serve(webhook_config(recorder), "--grace", "0.5")
    with again.client() as client:
        late = client.post("/v1/messages", json={"message": {"title": "b"}, "channels": ["hook"]})
        wait_until(lambda: len(recorder.requests) >= 2, what="the slow attempt")
        assert again.stop() == 0
    late_id = late.json()["deliveries"][0]["id"]
    [row] = query(again.db, "SELECT status, lease_owner FROM deliveries WHERE id = ?", late_id)
    assert row == {"status": "pending", "lease_owner": None}
    try:
        httpx.get(f"{again.url}/healthz", timeout=2)
    except httpx.ConnectError:
        pass
    else:
        raise AssertionError("the server still answers after it stopped")
