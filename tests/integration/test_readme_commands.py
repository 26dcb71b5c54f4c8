"""The README's commands work as written: every `valuelens ...` in its console blocks is a
real command with real options, the cheap examples run for real from a fresh directory,
and the figures the README quotes for them are what they produce."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard.labels import CANDIDATE_LABELS

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BIN = Path(sys.executable).parent
CONSOLE_BLOCK = re.compile(r"```console\n(.*?)```", re.S)
# Examples cheap enough to run on every test run (seconds); the others answer --help.
RUN_FOR_REAL = ("sample-data", "analyze examples/data/CDNOW_sample.txt",
                "analyze examples/data/customers.csv")
CLV_COLUMNS = ("normalized_gini", "spearman", "top_decile_capture", "total_ratio")
CHURN_COLUMNS = ("roc_auc", "pr_auc", "brier", "lift_at_10")


def shell_lines(text: str) -> list[str]:
    """Each `$ ...` command of the console blocks, continuation lines joined."""
    lines = []
    for block in CONSOLE_BLOCK.findall(text):
        for line in block.replace("\\\n", " ").splitlines():
            if line.startswith("$ "):
                lines.append(line[2:])
    return lines


def valuelens_invocations(line: str) -> list[list[str]]:
    """The `valuelens ...` words of a shell line, up to the end of its simple command
    (a pipe, `)` or `;`), e.g. inside `TOKEN=$(valuelens create-token ... | tail -n 1)`."""
    lexer = shlex.shlex(line.split(" #", 1)[0], posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    words, found, current = list(lexer), [], None
    for word in words:
        if current is not None and set(word) <= set("|&;()<>"):
            found.append(current)
            current = None
        elif current is not None:
            current.append(word)
        elif word == "valuelens" or word.endswith("(valuelens"):
            current = []
    if current is not None:
        found.append(current)
    return found


README_COMMANDS = [args for line in shell_lines(README.read_text())
                   for args in valuelens_invocations(line)]


def valuelens(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """`valuelens ARGS` as a reader runs it after `source .venv/bin/activate`."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "DATA_DIR": str(cwd / "var")}
    return subprocess.run(["valuelens", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def test_the_readme_shows_the_cli_commands_it_promises():
    commands = {args[0] for args in README_COMMANDS}
    assert {"sample-data", "analyze", "generate-data", "create-token", "create-tenant",
            "create-user"} <= commands
    assert (BIN / "valuelens").exists()


@pytest.mark.parametrize("args", README_COMMANDS, ids=" ".join)
def test_each_readme_command_is_accepted_by_the_cli(args, tmp_path):
    done = valuelens([*args, "--help"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Usage: valuelens {args[0]}")


def _markdown_table(text: str, first_header: str) -> dict[str, list[str]]:
    """Rows of the README table whose first header cell is `first_header`, by first cell."""
    rows, inside = {}, False
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == first_header:
            inside = True
        elif inside and line.startswith("|"):
            if not set(cells[0]) <= set("-"):
                rows[cells[0]] = cells[1:]
        elif inside:
            break
    return rows


def _check_backtest_table(rows: dict, task: dict, labels: dict, columns: tuple) -> None:
    by_label = {label: name for name, label in labels.items()}
    assert len(rows) == len(task["backtest"])
    for row_label, cells in rows.items():
        name = by_label[row_label.split(" (")[0]]
        assert ("(champion)" in row_label) == (name == task["champion"]), row_label
        for cell, column in zip(cells, columns, strict=True):
            decimals = len(cell.split(".")[1])
            assert float(cell) == round(task["backtest"][name][column], decimals), (
                f"{row_label}, {column}: README {cell}, "
                f"analyze {task['backtest'][name][column]:.4f}")


def test_the_cheap_examples_run_and_produce_the_figures_the_readme_quotes(tmp_path):
    text = README.read_text()
    examples = [args for args in README_COMMANDS if " ".join(args).startswith(RUN_FOR_REAL)]
    assert len(examples) == len(RUN_FOR_REAL)
    for args in examples:
        done = valuelens(args, tmp_path)
        assert done.returncode == 0, f"valuelens {' '.join(args)}:\n{done.stderr}"

    written = tmp_path / "examples" / "data" / "CDNOW_sample.txt"
    assert written.read_bytes() == (ROOT / "tests" / "data" / "CDNOW_sample.txt").read_bytes()
    cdnow = json.loads((tmp_path / "examples" / "cdnow" / "report.json").read_text())
    _check_backtest_table(_markdown_table(text, "CLV candidate"), cdnow["models"]["clv"],
                          CANDIDATE_LABELS["clv"], CLV_COLUMNS)
    _check_backtest_table(_markdown_table(text, "churn candidate"), cdnow["models"]["churn"],
                          CANDIDATE_LABELS["churn"], CHURN_COLUMNS)

    table = json.loads((tmp_path / "examples" / "table" / "report.json").read_text())
    validation = table["regression"]["cross_validation"]
    model, baseline = validation["model"]["mean"]["r2"], validation["baseline"]["mean"]["r2"]
    assert f"R² {model:.3f}" in text
    assert f"(the mean baseline: {baseline:.3f})".replace("-", "−") in text
