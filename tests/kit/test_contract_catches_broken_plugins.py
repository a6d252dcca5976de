"""The contract suite, run on deliberately broken plugins, fails each with a clear message.

Every broken plugin is the skeleton ``notify plugin new`` generates (which passes the
contract, see ``test_scaffold.py``) with one defect put in. The contract runs on it in
a nested pytest session (``pytester``), exactly as a plugin author's suite runs it.
"""

from __future__ import annotations

import pytest

from notify_core._cli._scaffold import CONTRACT_TEST, EXAMPLES, PLUGIN, render

pytest_plugins = ["pytester"]

NAME = "broken"


def plugin_source(*edits: tuple[str, str]) -> str:
    source = render(PLUGIN, NAME)
    for old, new in edits:
        assert old in source, f"the template no longer contains {old!r}"
        source = source.replace(old, new, 1)
    return source


@pytest.fixture(autouse=True)
def _lean_inner_sessions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nested sessions load only what they ask for (the kit), not every installed plugin."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def write_plugin(pytester: pytest.Pytester, source: str) -> None:
    pytester.makepyfile(
        **{"notify_broken": source, "_examples": render(EXAMPLES, NAME)},
        test_contract=render(CONTRACT_TEST, NAME),
    )


def run_contract(pytester: pytest.Pytester, source: str, *tests: str) -> pytest.RunResult:
    write_plugin(pytester, source)
    selection = " or ".join(tests)
    return pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "--tb=short", "-q", "-k", selection
    )


def assert_caught(result: pytest.RunResult, test: str, *message: str) -> None:
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) >= 1, result.stdout.str()
    result.stdout.fnmatch_lines([f"*FAILED*{test}*"])
    result.stdout.fnmatch_lines([f"E   AssertionError: {message[0]}", *message[1:]])


def test_the_intact_skeleton_passes_the_whole_contract(pytester: pytest.Pytester) -> None:
    write_plugin(pytester, plugin_source())
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=15)


def test_an_impure_builder_is_caught(pytester: pytest.Pytester) -> None:
    source = plugin_source(
        ("import re\n", "import re\nimport uuid\nfrom datetime import datetime\n"),
        ('"id": delivery_id,', '"id": str(uuid.uuid4()),'),
        (
            '"timestamp": utc(message.timestamp).isoformat(),',
            '"timestamp": datetime.now().isoformat(),',
        ),
    )
    result = run_contract(pytester, source, "pure")
    assert_caught(
        result,
        "test_build_payload_is_pure_and_deterministic",
        "build_payload is not pure (message 'small'): clock or randomness: uuid.uuid4()*"
        "datetime.now()*take the time from message.timestamp*",
    )


def test_a_builder_with_hidden_state_is_caught(pytester: pytest.Pytester) -> None:
    source = plugin_source(
        ('NAME = "broken"\n', 'NAME = "broken"\n_SENT = [0]\n'),
        ('"id": delivery_id,', '"id": delivery_id,\n        "sequence": _bump(),'),
        (
            "@hookimpl\ndef build_payload",
            "def _bump() -> int:\n    _SENT[0] += 1\n    return _SENT[0]\n\n\n"
            "@hookimpl\ndef build_payload",
        ),
    )
    result = run_contract(pytester, source, "pure")
    assert_caught(
        result,
        "test_build_payload_is_pure_and_deterministic",
        "build_payload gave two different payloads for the same 'small' message "
        "(first difference: body.sequence (* vs *)); it must be deterministic*",
    )


def test_io_in_the_builder_is_caught(pytester: pytest.Pytester) -> None:
    source = plugin_source(
        ('"id": delivery_id,', '"id": delivery_id,\n        "host": open("/etc/hostname").read(),')
    )
    result = run_contract(pytester, source, "pure")
    assert_caught(
        result,
        "test_build_payload_is_pure_and_deterministic",
        "build_payload is not pure (message 'small'): I/O: open('/etc/hostname')*",
    )


def test_treating_429_as_a_permanent_failure_is_caught(pytester: pytest.Pytester) -> None:
    source = plugin_source(
        (
            '    return generic_outcome(response, reason_fields=("error", "message"))\n',
            "    if response.status_code == 429:\n"
            '        return Outcome.failed("rate limited", http_status=429)\n'
            '    return generic_outcome(response, reason_fields=("error", "message"))\n',
        )
    )
    result = run_contract(pytester, source, "classifies")
    result.assert_outcomes(passed=3, failed=2)
    assert_caught(
        result,
        "test_classifies_answers*rate limited with Retry-After",
        "broken classified HTTP 429 'rate limited' with Retry-After: 7 as 'failed' "
        "(reason 'rate limited'); expected 'retry': this answer is transient*"
        "a 429 means 'slow down', not 'give up')",
    )


def test_dropping_retry_after_is_caught(pytester: pytest.Pytester) -> None:
    source = plugin_source(
        (
            '    return generic_outcome(response, reason_fields=("error", "message"))\n',
            "    import attrs\n\n"
            "    return attrs.evolve(generic_outcome(response), retry_after=None)\n",
        )
    )
    result = run_contract(pytester, source, "Retry")
    assert_caught(
        result,
        "test_classifies_answers*rate limited with Retry-After",
        "broken read HTTP 429 'rate limited' with Retry-After: 7 as retry_after=None, "
        "expected 7.0: pass the provider's own delay on*",
    )


def test_a_429_that_spends_the_retry_budget_is_caught(pytester: pytest.Pytester) -> None:
    source = plugin_source(
        (
            '    return generic_outcome(response, reason_fields=("error", "message"))\n',
            "    outcome = generic_outcome(response)\n"
            "    if response.status_code == 429:\n"
            '        return Outcome.retry("rate limited", retry_after=outcome.retry_after)\n'
            "    return outcome\n",
        )
    )
    result = run_contract(pytester, source, "classifies")
    assert_caught(
        result,
        "test_classifies_answers*rate limited with Retry-After",
        "broken classified HTTP 429 'rate limited' with Retry-After: 7 with throttled=False, "
        "expected True: a rate limit means 'slow down'*",
    )


def test_a_secret_in_the_payload_body_is_caught(pytester: pytest.Pytester) -> None:
    source = plugin_source(
        ('"id": delivery_id,', '"id": delivery_id,\n        "source": target.url,')
    )
    result = run_contract(pytester, source, "leaks")
    assert_caught(
        result,
        "test_never_leaks_a_secret",
        "the payload body carries a secret: body.source holds ****6789. Never put a "
        "credential in text people read*",
    )


def test_a_secret_in_an_error_message_is_caught(pytester: pytest.Pytester) -> None:
    source = plugin_source(
        (
            'raise InvalidTarget(f"broken url must look like {EXPECTED}; got {shown}")',
            'raise InvalidTarget(f"broken url must look like {EXPECTED}, not {url}")',
        )
    )
    result = run_contract(pytester, source, "rejects")
    assert_caught(
        result,
        "test_rejects_invalid_destinations_with_one_line",
        "InvalidTarget for http://hooks.example.com/broken/**** shows the secret ****6789: "
        "*mask it (mask_value) or leave it out",
    )


def test_an_unmasked_display_is_caught(pytester: pytest.Pytester) -> None:
    source = plugin_source(('display=url[: match.start("token")] + MASK', "display=url"))
    result = run_contract(pytester, source, "documented")
    assert_caught(
        result,
        "test_accepts_the_documented_examples",
        "the target shown to users (https://hooks.example.com/broken/****6789) contains a "
        "secret: set Target.display with the secret masked*",
    )


def test_retrying_inside_send_is_caught(pytester: pytest.Pytester) -> None:
    send = """
@hookimpl
def send(channel, payload, context, client):
    if channel.provider != NAME:
        return None
    return _send(payload, context, client)


async def _send(payload, context, client):
    for _ in range(3):
        response = await client.post(context.target.url, content=payload.content())
        if response.status_code < 500:
            break
    return generic_outcome(response)
"""
    result = run_contract(pytester, plugin_source() + send, "server")
    assert_caught(
        result,
        "test_classifies_answers*server error",
        "send made 2 requests for one attempt (HTTP 500 'internal error' without "
        "Retry-After): never retry inside send; return Outcome.retry*",
    )


def test_sleeping_inside_send_is_caught(pytester: pytest.Pytester) -> None:
    send = """
@hookimpl
def send(channel, payload, context, client):
    if channel.provider != NAME:
        return None
    return _send(payload, context, client)


async def _send(payload, context, client):
    import asyncio

    await asyncio.sleep(0.01)
    response = await client.post(context.target.url, content=payload.content())
    return generic_outcome(response)
"""
    result = run_contract(pytester, plugin_source() + send, "success")
    assert_caught(
        result,
        "test_classifies_answers*success",
        "send slept (asyncio.sleep(0.01)) for HTTP 200 'ok' without Retry-After: never sleep*",
    )


def test_refusing_an_oversized_message_is_caught(pytester: pytest.Pytester) -> None:
    source = plugin_source(
        ('"text": truncate(message.body, TEXT_CHARS),', '"text": message.body,'),
    )
    result = run_contract(pytester, source, "oversized")
    assert_caught(
        result,
        "test_build_payload_handles_hard_messages*oversized",
        "build_payload refused the 'oversized' message: broken payload is * bytes, over the "
        "provider's limit of 262144; trim to the provider's limits with the core's helpers*",
    )
