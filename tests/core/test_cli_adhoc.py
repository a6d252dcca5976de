"""``--option``/``--setting`` values: typed like TOML where they look typed, never echoed."""

from __future__ import annotations

import pytest

from notify_core._cli._adhoc import adhoc_options, adhoc_settings, scalar
from notify_core._cli._shared import UsageError
from notify_core.plugin import ProviderSpec

SPEC = ProviderSpec(name="bot", channel_keys=("chat_id", "token"), secret_keys=("token",))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("false", False),
        ("42", 42),
        ("-3", -3),
        ("1.5", 1.5),
        ("1_000", 1000),
        ("007", "007"),  # not a TOML number: kept as written
        ("inf", "inf"),
        ("nan", "nan"),
        ("1979-05-27", "1979-05-27"),
        ("True", "True"),
        ("PUT", "PUT"),
        ("", ""),
        ("a = 1\nb = 2", "a = 1\nb = 2"),
        ('"quoted"', '"quoted"'),
    ],
)
def test_setting_values_are_typed_only_when_they_look_typed(text: str, value: object) -> None:
    assert scalar(text) == value
    assert type(scalar(text)) is type(value)


def test_dotted_settings_make_tables() -> None:
    assert adhoc_settings(["auth.type=bearer", "auth.token=t=1", "rich=false"]) == {
        "auth": {"type": "bearer", "token": "t=1"},
        "rich": False,
    }


@pytest.mark.parametrize(
    ("pairs", "error"),
    [
        (["auth=x", "auth.type=y"], "--setting 'auth.type': 'auth' is already set to a value"),
        (["auth.type=y", "auth=x"], "--setting 'auth': not a usable key"),
        (["a..b=1"], "--setting 'a..b': not a usable key"),
        (["novalue"], "--setting: expected KEY=VALUE"),
    ],
)
def test_bad_settings_are_one_line(pairs: list[str], error: str) -> None:
    with pytest.raises(UsageError) as info:
        adhoc_settings(pairs)
    assert str(info.value).startswith(error)


def test_options_are_the_declared_keys_and_values_are_never_echoed() -> None:
    assert adhoc_options(["chat_id=42", "token=s3cr3t=="], SPEC) == {
        "chat_id": "42",
        "token": "s3cr3t==",
    }
    with pytest.raises(UsageError) as info:
        adhoc_options(["tokn=s3cr3t"], SPEC)
    assert (
        str(info.value) == "--option 'tokn': bot channels have no such key (known: chat_id, token)"
    )
    with pytest.raises(UsageError) as info:
        adhoc_options(["s3cr3t"], SPEC)
    assert "s3cr3t" not in str(info.value)
