"""The house's layering rules, checked on the source: the web package never imports the
worker package, and `models/` knows nothing of the web, the queue or SQL."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(package: str):
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize(("package", "forbidden"), [
    ("dashboard", ("workers",)),
    ("models", ("dashboard", "workers", "flask", "celery", "sqlalchemy", "dash")),
])
def test_a_package_never_imports_the_layers_above_it(package, forbidden):
    offenders = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _modules(package)
        for name in _imports(path)
        if name.split(".")[0] in forbidden
    }

    assert not offenders, sorted(offenders)


# Modules that may hold the raw session: the store itself and the engine's owner.
SESSION_OWNERS = {"dashboard/store.py", "dashboard/database.py"}
RAW_SESSION = re.compile(r"\bdb\.session\b(?!\.remove\b)")


def test_tenant_rows_are_reached_through_the_store_or_the_loud_opt_out():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in ("dashboard", "workers")
        for path in _modules(package)
        if str(path.relative_to(ROOT)) not in SESSION_OWNERS
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if RAW_SESSION.search(line)
    ]

    assert not offenders, offenders
