"""check_golden: compare with a JSON file, show a diff, rewrite on NOTIFY_UPDATE_GOLDEN=1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from notify_core.testing import _golden, check_golden


def test_missing_file_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(
        AssertionError, match="does not exist: run the tests once with NOTIFY_UPDATE_GOLDEN=1"
    ):
        check_golden(tmp_path / "new.json", {"a": 1})


def test_equal_data_passes_whatever_the_file_formatting(tmp_path: Path) -> None:
    path = tmp_path / "g.json"
    path.write_text('{"b": [1, 2], "a": "ü"}', encoding="utf-8")
    check_golden(path, {"a": "ü", "b": (1, 2)})  # tuples compare as the lists JSON makes


def test_a_difference_shows_a_diff_and_the_command(tmp_path: Path) -> None:
    path = tmp_path / "g.json"
    path.write_text(json.dumps({"text": "old", "n": 1}), encoding="utf-8")
    with pytest.raises(AssertionError) as caught:
        check_golden(path, {"text": "new", "n": 1})
    message = str(caught.value)
    assert "rerun with NOTIFY_UPDATE_GOLDEN=1" in message
    assert '-  "text": "old",' in message and '+  "text": "new",' in message


def test_update_mode_writes_only_what_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_golden, "_UPDATE_AT_IMPORT", True)
    same, changed = tmp_path / "same.json", tmp_path / "sub" / "changed.json"
    same.write_text('{"a": 1}', encoding="utf-8")  # equal data, other formatting: kept
    check_golden(same, {"a": 1})
    check_golden(changed, {"text": "日本語"})
    assert same.read_text(encoding="utf-8") == '{"a": 1}'
    assert changed.read_text(encoding="utf-8") == '{\n  "text": "日本語"\n}\n'


def test_the_suite_keeps_the_update_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """tests/conftest.py clears NOTIFY_* for each test, but not NOTIFY_UPDATE_GOLDEN."""
    monkeypatch.setenv("NOTIFY_UPDATE_GOLDEN", "1")
    assert _golden.updating()
