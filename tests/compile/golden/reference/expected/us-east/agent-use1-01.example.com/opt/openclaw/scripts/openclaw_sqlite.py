"""OpenClaw's SQLite databases in a state tree, for replication (managed by openclaw).

  openclaw_sqlite.py snapshot SRC DST   consistent copies (SQLite's backup API) of every
                                        database under SRC into DST; prints the rsync
                                        excludes of the live files (/openclaw/REL, -wal...)
  openclaw_sqlite.py release DIR        drop the leases in every database under DIR: a
                                        restored copy holds the source gateway's

Runs as the service account; links are never followed."""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterator


def databases(root: str) -> Iterator[str]:
    for top, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not os.path.islink(os.path.join(top, d)))
        for name in sorted(files):
            path = os.path.join(top, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            with open(path, "rb") as f:
                if f.read(16) == b"SQLite format 3\0":
                    yield path


def snapshot(src: str, dst: str) -> None:
    for path in databases(src):
        rel = os.path.relpath(path, src)
        os.makedirs(os.path.join(dst, os.path.dirname(rel)), exist_ok=True)
        live = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        copy = sqlite3.connect(os.path.join(dst, rel))
        live.backup(copy)
        copy.close()
        live.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            print(f"/openclaw/{rel}{suffix}")


def release(root: str) -> None:
    for path in databases(root):
        db = sqlite3.connect(path)
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'state_leases'").fetchone():
            db.execute("DELETE FROM state_leases")
            db.commit()
        db.close()


if __name__ == "__main__":
    if sys.argv[1:2] == ["snapshot"] and len(sys.argv) == 4:
        snapshot(sys.argv[2], sys.argv[3])
    elif sys.argv[1:2] == ["release"] and len(sys.argv) == 3:
        release(sys.argv[2])
    else:
        sys.exit(__doc__)
