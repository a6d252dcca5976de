"""The SQLite store's WAL is checkpointed on a thread of its own, not by a commit.

A commit that had to checkpoint (SQLite's default, at 1,000 WAL pages) made the event
loop wait 4-8 ms: the p99 of send(). Now the store's connection never checkpoints on
commit and a background connection does, while the store is open. Proof from outside:
the database file itself (without its WAL) comes to hold what was committed.
"""

from __future__ import annotations

import shutil
import sqlite3
import time

from notify_core import Channel, Message, Notifier
from notify_core.testing import query


def rows_in_main_file(db, tmp_path) -> int:
    """Rows in the database file alone, as if its WAL were lost."""
    copy = tmp_path / "copy.db"
    shutil.copyfile(db, copy)  # the main file only: no -wal, no -shm
    with sqlite3.connect(copy) as conn:
        try:
            return conn.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0]
        except sqlite3.OperationalError:  # not even the schema reached the file yet
            return 0


def test_commits_reach_the_database_file_while_the_store_is_open(tmp_path):
    db = tmp_path / "ck.db"
    hook = Channel(name="hook", provider="webhook", url="https://example.com/hook")
    with Notifier(channels=[hook], db=db, env={}) as notifier:
        notifier.send(Message(title="warm"), wait=0)  # queued only: nothing is sent
        autocheckpoint = notifier.store._db.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        assert autocheckpoint == 0  # commits never checkpoint
        notifier.send_many([Message(title=f"m{i}") for i in range(500)], wait=0)
        deadline = time.monotonic() + 10
        while rows_in_main_file(db, tmp_path) < 501 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert rows_in_main_file(db, tmp_path) == 501
    assert len(query(db, "SELECT id FROM deliveries")) == 501
    assert not (tmp_path / "ck.db-wal").exists() or (tmp_path / "ck.db-wal").stat().st_size == 0
