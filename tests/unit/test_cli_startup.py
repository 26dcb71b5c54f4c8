"""Account commands touch a few rows and must answer at once: they bind the database
alone and never load the web app, the queue or the analytics stack (seconds of imports)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import STRONG_PASSWORD

HEAVY_MODULES = ("dash", "celery", "xgboost", "pandas", "sklearn", "models", "workers")

SCRIPT = """
import json, sys
from dashboard.cli import main

def run(*args):
    main(list(args), standalone_mode=False)

run("init-db")
run("create-tenant", "acme", "--name", "Acme Inc")
run("create-user", "--tenant", "acme", "--email", "ada@acme.example", "--role", "admin",
    "--password-stdin")
run("create-token", "--email", "ada@acme.example", "--name", "nightly")
run("revoke-token", "--email", "ada@acme.example", "--name", "nightly")
run("reset-password", "--email", "ada@acme.example", "--password-stdin")
heavy = sorted({name.split(".")[0] for name in sys.modules} & set(sys.argv[1:]))
print(json.dumps(heavy))
"""


def test_account_commands_load_neither_the_web_app_nor_the_analytics(tmp_path):
    env = {**os.environ, "DATA_DIR": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'valuelens.db'}"}
    for name in ("SECRET_KEY", "REDIS_URL"):
        env.pop(name, None)

    done = subprocess.run([sys.executable, "-c", SCRIPT, *HEAVY_MODULES], env=env,
                          input=f"{STRONG_PASSWORD}\n{STRONG_PASSWORD} again\n",
                          capture_output=True, text=True, timeout=120, check=False)

    assert done.returncode == 0, done.stderr
    assert "Revoked 1 token" in done.stdout
    assert json.loads(done.stdout.splitlines()[-1]) == []
