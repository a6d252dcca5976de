"""Golden files: a payload as JSON on disk, compared on every run, rewritten on request."""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any

#: Set to ``1`` to rewrite golden files instead of comparing with them.
UPDATE_ENV = "NOTIFY_UPDATE_GOLDEN"

# Read once, at import: a test suite may clear NOTIFY_* variables before each test (the
# kit is imported before any test runs), and a run must not half-update its files.
_UPDATE_AT_IMPORT = os.environ.get(UPDATE_ENV) == "1"

_DIFF_LINES = 60


def updating() -> bool:
    """Whether golden files are being rewritten (``NOTIFY_UPDATE_GOLDEN=1``)."""
    return _UPDATE_AT_IMPORT or os.environ.get(UPDATE_ENV) == "1"


def golden_text(data: Any) -> str:
    """The stored form: indented, UTF-8 as is, keys in the order the payload has them."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def check_golden(path: str | os.PathLike[str], data: Any) -> None:
    """Assert that ``data`` equals the JSON in ``path``; with ``NOTIFY_UPDATE_GOLDEN=1``, write it.

    A plain function, not a fixture: import it (``from notify_core.testing import
    check_golden``) and call it from any test, with a path next to your tests
    (``Path(__file__).parent / "golden" / "small.json"``).
    ``data`` must be JSON-serialisable (a payload body, or a dict of the parts you want
    pinned: method, url, headers, body). The comparison is of parsed JSON, so a file
    reformatted by hand still matches; a mismatch shows a diff and the command that
    regenerates the file. Review the diff of regenerated files before committing them.
    """
    path = Path(path)
    text = golden_text(data)
    if updating():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or json.loads(path.read_text(encoding="utf-8")) != json.loads(text):
            path.write_text(text, encoding="utf-8")
        return
    if not path.exists():
        raise AssertionError(
            f"golden file {path} does not exist: run the tests once with "
            f"{UPDATE_ENV}=1 to create it, then review and commit it"
        )
    expected = json.loads(path.read_text(encoding="utf-8"))
    actual = json.loads(text)  # what the data looks like after a JSON round trip
    if expected == actual:
        return
    diff = list(
        difflib.unified_diff(
            golden_text(expected).splitlines(),
            text.splitlines(),
            fromfile=f"{path.name} (golden)",
            tofile=f"{path.name} (built now)",
            lineterm="",
        )
    )
    shown = diff[:_DIFF_LINES]
    if len(diff) > _DIFF_LINES:
        shown.append(f"… {len(diff) - _DIFF_LINES} more diff lines")
    raise AssertionError(
        f"payload differs from golden file {path}; if the change is intended, rerun with "
        f"{UPDATE_ENV}=1 and review the diff\n" + "\n".join(shown)
    )
