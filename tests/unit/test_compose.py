"""The deployment files only use real `valuelens` sub-commands and keep their promises
(durable Redis, non-root image, health check). No Docker engine is needed: the files are
written so that a line parser reads them."""

import json
import re
from pathlib import Path

from dashboard.cli import main

ROOT = Path(__file__).resolve().parents[2]


def compose_services() -> dict[str, list[str]]:
    """Service name -> the service's lines, from the `services:` block."""
    services: dict[str, list[str]] = {}
    current = None
    in_services = False
    for line in (ROOT / "docker-compose.yml").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line.startswith(" "):
            in_services = line.rstrip() == "services:"
            current = None
            continue
        match = re.fullmatch(r"  ([a-z][a-z0-9_-]*):\s*", line)
        if in_services and match:
            current = match.group(1)
            services[current] = []
        elif in_services and current:
            services[current].append(line.strip())
    return services


def command_of(service_lines: list[str]) -> str:
    commands = [line.split(":", 1)[1].strip() for line in service_lines
                if line.startswith("command:")]
    assert len(commands) == 1, service_lines
    return commands[0]


def test_compose_runs_every_part_of_the_product():
    services = compose_services()
    assert {"web", "worker", "beat", "migrate", "redis", "postgres"} <= set(services)
    assert command_of(services["web"]) == "valuelens web"
    assert command_of(services["worker"]) == "valuelens worker"
    assert command_of(services["beat"]) == "valuelens beat"
    assert command_of(services["migrate"]) == "valuelens init-db"


def test_compose_only_calls_real_cli_commands():
    commands = [command_of(lines) for lines in compose_services().values()
                if any(line.startswith("command:") for line in lines)]
    used = {command.split()[1] for command in commands if command.startswith("valuelens ")}
    assert used == {"web", "worker", "beat", "init-db"}
    assert used <= set(main.commands)


def test_image_starts_a_real_cli_command():
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", dockerfile, flags=re.M).group(1))
    assert cmd[0] == "valuelens" and cmd[1] in main.commands


def test_compose_redis_is_durable():
    redis = compose_services()["redis"]
    assert command_of(redis) == "redis-server --appendonly yes"
    assert any(line.startswith("- redis:/data") for line in redis)


def test_compose_takes_secrets_from_the_environment_file_and_shares_the_data_dir():
    text = (ROOT / "docker-compose.yml").read_text()
    assert "SECRET_KEY: ${SECRET_KEY:?" in text
    assert re.search(r"DATABASE_URL: postgresql\+psycopg://valuelens:\$\{POSTGRES_PASSWORD[^}]*\}"
                     r"@postgres:5432/valuelens\n", text)
    assert "REDIS_URL: redis://redis:6379/0" in text
    assert "DATA_DIR: /data" in text and "- data:/data" in text
    assert "postgres:/var/lib/postgresql/data" in text


def test_image_is_slim_runs_as_non_root_and_checks_health():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11-slim\n" in dockerfile
    users = re.findall(r"^USER (\S+)$", dockerfile, flags=re.M)
    assert users and users[-1] not in {"root", "0"}
    assert "pip install -c constraints.txt '.[postgres]'" in dockerfile
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", dockerfile, flags=re.M)


def test_image_leaves_out_local_state_and_secrets():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".env", "var", "tests"} <= ignored
