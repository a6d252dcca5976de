"""The plugin guide's complete example, as printed, passes the contract suite.

``docs/plugins.md`` promises that a plugin written from it needs nothing but
``notify_core.plugin``. Its Telegram plugin is taken from the page (the code block after
the marker comment), loaded as a module and checked like any third-party plugin: the
guide cannot drift from the API without this test failing.
"""

from __future__ import annotations

import ast
import json
import re
import sys
import types
from pathlib import Path

from notify_core.plugin import Channel, Message
from notify_core.testing import Answer, Example, ProviderContract, providers_for

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
MARKER = "<!-- the complete example: tests/kit/test_guide_example.py runs the contract on it -->"


def guide_source() -> str:
    text = GUIDE.read_text(encoding="utf-8")
    found = re.search(re.escape(MARKER) + r"\n```python\n(.*?)\n```\n", text, re.DOTALL)
    assert found, f"{GUIDE.name} lost its complete example (the block after {MARKER!r})"
    return found.group(1)


def guide_plugin() -> types.ModuleType:
    source = guide_source()
    module = types.ModuleType("notify_telegram_from_the_guide")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, str(GUIDE), "exec"), module.__dict__)
    return module


telegram = guide_plugin()
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
URL = f"https://api.telegram.org/bot{TOKEN}"
CHAT = "-1001234567890"


def answer(status: int, description: str, **extra: object) -> Answer:
    body = {"ok": False, "error_code": status, "description": description, **extra}
    return Answer(status, json.dumps(body), headers={"Content-Type": "application/json"})


class TestTheGuidesTelegramPlugin(ProviderContract):
    plugin = telegram
    provider = "telegram"
    valid = (
        Example(URL, options={"chat_id": CHAT}, secrets=(TOKEN,), public=(CHAT,)),
        Example(URL, options={"chat_id": 42424242}, settings={"silent": True}, secrets=(TOKEN,)),
        Example(URL, options={"chat_id": "@notify_ops"}, secrets=(TOKEN,)),
    )
    invalid = (
        Example(URL.replace("https", "http"), options={"chat_id": CHAT}, secrets=(TOKEN,)),
        Example(URL, secrets=(TOKEN,), key="chat_id", why="no chat"),
        Example(
            URL,
            options={"chat_id": CHAT},
            settings={"silnet": True},
            secrets=(TOKEN,),
            key="settings.silnet",
        ),
    )
    client_error_answers = (
        answer(400, "Bad Request: chat not found"),
        answer(403, "Forbidden: bot was kicked from the group chat"),
    )
    rate_limited = answer(429, "Too Many Requests: retry after 5", parameters={"retry_after": 5})
    rate_limited_retry_after = 5.0


def test_the_example_imports_only_the_plugin_namespace() -> None:
    tree = ast.parse(guide_source())
    notify = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("notify")
    }
    assert notify == {"notify_core.plugin"}


def test_each_chat_is_paced_on_its_own_and_shown_by_its_id() -> None:
    providers = providers_for(telegram, name="telegram")
    a, b = (Channel(name=c, provider="telegram", url=URL, options={"chat_id": c}) for c in "12")
    targets = [providers.validate(a), providers.validate(b)]
    assert [t.destination for t in targets] == ["chat 1", "chat 2"]
    assert targets[0].url == targets[1].url == f"{URL}/sendMessage"
    assert providers.display(a, targets[0]) == (
        "https://api.telegram.org/bot****/sendMessage → chat 1"
    )
    body = providers.build(a, Message(title="<Backup> done", body="42 GB"), "dly_1").body
    assert body["text"] == "<b>&lt;Backup&gt; done</b>\n42 GB"
    assert body["chat_id"] == "1"
