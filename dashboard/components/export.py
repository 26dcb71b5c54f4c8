"""CSV exports that a spreadsheet opens as data: a text cell starting with = + - @, a tab
or a carriage return would be read as a formula, so it gets a leading apostrophe.
Numbers stay numbers (a negative amount is not text)."""

from __future__ import annotations

import pandas as pd
from dash import dcc

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell escaped; numeric columns untouched."""
    safe = frame.copy()
    for column in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[column]) and not pd.api.types.is_bool_dtype(safe[column]):
            safe[column] = safe[column].map(escape_cell).astype(object)
    safe.columns = [escape_cell(str(column)) for column in safe.columns]
    return safe


def csv_text(frame: pd.DataFrame) -> str:
    return safe_frame(frame).to_csv(index=False)


def csv_download(frame: pd.DataFrame, filename: str) -> dict:
    """What a `dcc.Download` callback returns for `frame` as a formula-safe CSV."""
    return dcc.send_string(csv_text(frame), filename, type="text/csv")
