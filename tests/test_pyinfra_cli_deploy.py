"""deploys/ under the plain pyinfra CLI: the same HostPlan, converged, then left alone."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).parent.parent
PYINFRA = str(Path(sys.executable).parent / "pyinfra")
SECRETS = {"GATEWAY_AUTH_TOKEN": "cli-canary-gw-4Rd",
           "MINIMAX_API_KEY": "cli-canary-mm-7Hq", "OPENROUTER_API_KEY": "cli-canary-or-2Lp",
           "TELEGRAM_BOT_TOKEN": "1:cli-canary-tg", "TELEGRAM_CHAT_ID": "cli-chat",
           "LITELLM_MASTER_KEY": "sk-cli-canary-litellm",
           "DATABASE_URL": "postgresql://canary:pw-canary-db@127.0.0.1/q",
           "QUEUE_REDIS_URL": "redis://:canary-redis-pw@127.0.0.1:6379/0"}


def deploy(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYINFRA, "-y", str(REPO / "deploys/inventory.py"), str(REPO / "deploys/openclaw.py")],
        cwd=cwd, capture_output=True, text=True, timeout=120,
        env={**os.environ, **SECRETS, "OPENCLAW_CONFIG": str(cwd / "openclaw.yaml"),
             "OPENCLAW_INVENTORY": str(cwd / "inv.yaml")})


def test_pyinfra_cli_applies_the_plan_then_changes_nothing(tmp_path: Path) -> None:
    shutil.copy(REPO / "openclaw.yaml", tmp_path)
    (tmp_path / "inv.yaml").write_text("regions:\n  us-east:\n    hosts:\n      solo:\n"
                                       "        ssh_host: '@local'\n        root: ./host\n")
    r = deploy(tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "openclaw: install files and run unit steps" in r.stdout + r.stderr
    env = tmp_path / "host/opt/openclaw/config/llm-gateway.env"
    assert "MINIMAX_API_KEY=cli-canary-mm-7Hq" in env.read_text()
    assert oct(env.stat().st_mode & 0o777) == "0o600"
    assert not any((tmp_path / "host/run/openclaw").iterdir())  # lock released
    r = deploy(tmp_path)
    assert r.returncode == 0 and "openclaw: install files" not in r.stdout + r.stderr
    for secret in SECRETS.values():
        assert secret not in r.stdout + r.stderr
