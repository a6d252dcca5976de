"""The dashboard's stored channels in Debian's Chromium (Playwright): add a tenant's
channel through the form (a wrong URL first), press Test, see its delivery, delete it
with confirmation, and read who did what in the recent changes."""

from __future__ import annotations

from typing import Any

from notify_core.testing import RecordingServer, query, stored_bytes

from ..serve.conftest import TOKEN, Served
from ..serve.test_dashboard import _page, browser
from .conftest import AUTH_SECRET, URL_SECRET, assert_no_secret, hook_url, new_key, root_config

__all__ = ["browser"]  # the fixture, shared with the dashboard's own tests


def test_add_test_and_delete_a_tenant_channel_in_a_browser(
    serve: Any, recorder: RecordingServer, browser: Any
) -> None:
    served: Served = serve(root_config(recorder), token=TOKEN, env={"NOTIFY_SECRET_KEY": new_key()})
    page = _page(browser)
    pages: list[str] = []
    page.goto(f"{served.url}/ui/channels")
    page.fill("#token", TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served.url}/ui/channels")

    form = page.locator("#add-channel")
    # the provider comes from the installed plugins, the events from the templates
    providers = form.locator("select[name=provider] option").all_inner_texts()
    assert {"slack", "webhook", "pagerduty"} <= set(providers)
    toggles = form.locator("input[name=event]")
    assert [toggles.nth(i).get_attribute("value") for i in range(toggles.count())] == [
        "training.complete",
        "training.failed",
    ]

    # a URL of the wrong shape: refused, saying what the provider expects; nothing saved
    form.locator("input[name=tenant]").fill("acme")
    form.locator("input[name=name]").fill("alerts")
    form.locator("select[name=provider]").select_option("slack")
    form.locator("input[name=url]").fill(f"https://hooks.slack.com/wrong/{URL_SECRET}")
    form.locator("input[value='training.failed']").check()
    form.locator("button[type=submit]").click()
    error = page.locator("#form-error")
    assert "url: slack url must look like https://hooks.slack.com/services/" in error.inner_text()
    pages.append(page.content())
    assert not query(served.db, "SELECT * FROM stored_channels")
    # the form keeps what is not secret, and asks for the URL again
    assert form.locator("input[name=name]").input_value() == "alerts"
    assert form.locator("input[name=url]").input_value() == ""
    assert form.locator("input[value='training.failed']").is_checked()

    form.locator("select[name=provider]").select_option("webhook")
    form.locator("input[name=url]").fill(hook_url(recorder))
    form.locator("input[name=events_glob]").fill("deploy.*")
    form.locator("textarea[name=settings]").fill(
        f"method=PUT\nauth.type=bearer\nauth.token={AUTH_SECRET}"
    )
    form.locator("input[name=description]").fill("acme's training alerts")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/ui/channels?added=acme%2Falerts")
    assert page.locator("#notice").inner_text() == "Added channel acme/alerts."
    row = page.locator("tr[data-channel='acme/alerts']")
    assert "stored" in row.locator(".origin").inner_text()
    assert "training.failed, deploy.*" in row.inner_text()
    assert "/acme?token=****" in row.inner_text()
    assert "configured" in page.locator("tr[data-channel=ops] .origin").inner_text()
    assert page.locator("tr[data-channel=ops] button[value=delete]").count() == 0
    pages.append(page.content())

    # Test: a labelled notification goes out; its delivery shows, highlighted, in the log
    row.locator("button[value=test]").click()
    page.wait_for_url("**highlight=**")
    highlighted = page.locator("#rows tr.hl")
    assert highlighted.count() == 1 and "delivered" in highlighted.inner_text()
    [request] = recorder.requests
    assert request.method == "PUT" and request.path.startswith("/acme?")
    assert request.header("authorization") == f"Bearer {AUTH_SECRET}"
    pages.append(page.content())

    # Delete asks first (a page of its own: it works without scripts too)
    page.goto(f"{served.url}/ui/channels")
    page.locator("tr[data-channel='acme/alerts'] button[value=delete]").click()
    assert page.locator("h1").inner_text() == "Delete channel acme/alerts?"
    pages.append(page.content())
    page.click("text=Cancel")
    page.wait_for_url(f"{served.url}/ui/channels")
    assert page.locator("tr[data-channel='acme/alerts']").count() == 1
    page.locator("tr[data-channel='acme/alerts'] button[value=delete]").click()
    page.click("#confirm-delete")
    page.wait_for_url("**/ui/channels?removed=acme%2Falerts")
    assert page.locator("tr[data-channel='acme/alerts']").count() == 0

    actions = page.locator("#audit tbody tr").evaluate_all(
        "rows => rows.map(r => [r.dataset.action, r.cells[3].innerText])"
    )
    assert actions == [
        ["removed", "dashboard"],
        ["tested", "dashboard"],
        ["created", "dashboard"],
    ]
    pages.append(page.content())
    assert_no_secret(*pages, stored_bytes(served.db))
