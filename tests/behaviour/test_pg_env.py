"""The autoscaler's queue URL becomes libpq's PG* variables: no password ever reaches psql's
command line, whatever it holds."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

LIB = Path(__file__).parent.parent.parent / "templates/scripts/lib.sh"
PASSWORD = "c@n&ry%pg-Wq4 x"


def pg_env(url: str) -> dict[str, str]:
    script = f'set -u; . {LIB}; pg_env "$1" || exit 3; env | grep "^PG" | sort'
    r = subprocess.run(["bash", "-c", script, "pg_env", url], capture_output=True, text=True,
                       env={"PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    return dict(line.split("=", 1) for line in r.stdout.splitlines())


@pytest.mark.parametrize("url, expected", [
    ("postgresql://scaler:c%40n%26ry%25pg-Wq4%20x@127.0.0.1/queue",
     {"PGUSER": "scaler", "PGPASSWORD": PASSWORD, "PGHOST": "127.0.0.1",
      "PGDATABASE": "queue"}),
    ("postgres://scaler@db.internal:5433/queue?password=c%40n%26ry%25pg-Wq4+x&sslmode=require",
     {"PGUSER": "scaler", "PGPASSWORD": PASSWORD, "PGHOST": "db.internal", "PGPORT": "5433",
      "PGDATABASE": "queue", "PGSSLMODE": "require"}),
    ("postgresql://scaler:p@ss@[::1]:5432/q", {"PGUSER": "scaler", "PGPASSWORD": "p@ss",
                                               "PGHOST": "::1", "PGPORT": "5432",
                                               "PGDATABASE": "q"}),
    ("postgresql:///queue?host=/run/postgresql", {"PGHOST": "/run/postgresql",
                                                  "PGDATABASE": "queue"}),
])
def test_queue_urls_become_pg_variables(url: str, expected: dict[str, str]) -> None:
    assert pg_env(url) == expected


def test_psql_gets_no_connection_string(tmp_path: Path) -> None:
    """The autoscaler's call, with a psql that records its arguments and environment."""
    fake = tmp_path / "psql"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" >{tmp_path}/argv\n'
                    f'printf "%s\\n" "$PGPASSWORD" >{tmp_path}/password\necho 7\n')
    fake.chmod(0o755)
    script = (LIB.parent / "autoscale.sh").read_text()
    call = script[script.index("if ! pg_env"):script.index("depth=${depth//")]
    r = subprocess.run(["bash", "-c", f'. {LIB}; DEPTH_QUERY="SELECT 1"; '
                        'QUEUE_URL_ENV=Q; url=$Q\n' + call + 'echo "depth=$depth"'],
                       capture_output=True, text=True,
                       env={"PATH": f"{tmp_path}:/usr/bin:/bin",
                            "Q": "postgresql://scaler:c%40n%26ry%25pg-Wq4%20x@127.0.0.1/queue"})
    assert "depth=7" in r.stdout, r.stderr
    argv = (tmp_path / "argv").read_text()
    assert "pg-Wq4" not in argv and "127.0.0.1" not in argv and "-d" not in argv.split()
    assert (tmp_path / "password").read_text() == PASSWORD + "\n"
