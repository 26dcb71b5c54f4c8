"""Vectorised parsing of dates and numbers held as Arrow strings.

Dates: the format family is chosen from a sample (``YYYYMMDD``, year first
``YYYY-MM-DD``/``YYYY/MM/DD``, or year last ``DD/MM/YYYY``/``MM/DD/YYYY`` with ``/``,
``.`` or ``-``), each with optional time of day (``HH:MM[:SS]``, 12-hour ``AM/PM``, a
``T`` separator, fractional seconds, and a ``Z``/``+HH:MM`` offset, which is converted
to UTC). Year-last dates are day-first when any first field is above 12 and
month-first when any second field is; when no value decides, ``/`` means month-first
(US exports) and ``.``/``-`` mean day-first (European exports).

Numbers: currency symbols, ISO currency codes, spaces and apostrophes are removed,
``(12.50)`` means ``-12.50``, thousands separators are removed when they group exactly
three digits. A comma is the decimal mark when the file is not comma-delimited and
the column has a value like ``12,5``/``12,50`` (or, for ``;`` files, any comma between
digits).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_SAMPLE_HEAD = 5_000
_SAMPLE_SPREAD = 1_000

_TIME_SUFFIXES = ("", " %H:%M:%S", " %H:%M", "T%H:%M:%S", "T%H:%M", " %I:%M:%S %p",
                  " %I:%M %p", " %I:%M:%S%p", " %I:%M%p", "T%H:%M:%S%z", " %H:%M:%S%z",
                  "T%H:%M%z")
_FAMILIES = (
    ("compact", re.compile(r"^\d{8}$")),
    ("year_first", re.compile(r"^\d{4}([-/.])\d{1,2}\1\d{1,2}(?:$|[T ])")),
    ("year_last", re.compile(r"^\d{1,2}([-/.])\d{1,2}\1\d{4}(?:$|[T ])")),
)
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_NUMBER_TEXT = re.compile(r"^[(+-]?[$€£¥₹]?\s?[+-]?[\d.,' ]*\d[\d.,' ]*\)?\s?[$€£¥₹]?$")


@dataclass
class ParsedDates:
    values: np.ndarray  # datetime64[ns], NaT where missing or unparseable
    missing: np.ndarray  # bool: no value at all
    format: str | None
    ambiguous: bool  # day/month order could not be decided from the data


def sample(values: pa.ChunkedArray) -> list[str]:
    """Non-empty values from the head of the column and spread over all of it."""
    n = len(values)
    picks = [values.slice(0, _SAMPLE_HEAD)]
    if n > _SAMPLE_HEAD:
        spread = np.zeros(n, dtype=bool)
        spread[np.linspace(0, n - 1, _SAMPLE_SPREAD).astype(np.int64)] = True
        picks.append(values.filter(pa.array(spread)))
    out = []
    for arr in picks:
        out.extend(s.strip() for s in pc.drop_null(arr).to_pylist())
    return [s for s in out if s]


def looks_numeric(text: str) -> bool:
    return bool(_NUMBER_TEXT.match(text))


def looks_date(text: str) -> bool:
    return any(pattern.match(text) for _, pattern in _FAMILIES)


def clean_text(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Trim surrounding whitespace; empty values become null."""
    trimmed = pc.utf8_trim_whitespace(values)
    blank = pc.equal(trimmed, "")
    if not pc.any(blank).as_py():
        return trimmed
    return pc.if_else(blank, pa.scalar(None, pa.string()), trimmed)


def _family(texts: list[str]) -> tuple[str | None, str]:
    hits: dict[tuple[str, str], int] = {}
    for text in texts:
        for name, pattern in _FAMILIES:
            match = pattern.match(text)
            if match:
                key = (name, match.group(1) if match.groups() else "")
                hits[key] = hits.get(key, 0) + 1
                break
    if not hits:
        return None, ""
    return max(hits, key=hits.get)


def _year_last_order(texts: list[str], sep: str) -> str | None:
    """'day' or 'month' when a value shows which field is the day, else None."""
    firsts, seconds = [], []
    for text in texts:
        parts = text.split(sep)
        if len(parts) >= 3 and parts[0].isdigit() and parts[1].isdigit():
            firsts.append(int(parts[0]))
            seconds.append(int(parts[1]))
    if firsts and max(firsts) > 12:
        return "day"
    if seconds and max(seconds) > 12:
        return "month"
    return None


def _date_formats(family: str, sep: str, order: str) -> list[str]:
    if family == "compact":
        bases = ["%Y%m%d"]
    elif family == "year_first":
        bases = [f"%Y{sep}%m{sep}%d"]
    else:
        bases = [f"%d{sep}%m{sep}%Y" if order == "day" else f"%m{sep}%d{sep}%Y"]
    return [base + suffix for base in bases for suffix in _TIME_SUFFIXES]


def _strptime(values, fmt: str) -> pa.Array:
    parsed = pc.strptime(values, format=fmt, unit="ns", error_is_null=True)
    if getattr(parsed.type, "tz", None) is not None:
        parsed = parsed.cast(pa.timestamp("ns", tz="UTC")).cast(pa.timestamp("ns"))
    return parsed


@dataclass(frozen=True)
class DatePlan:
    """How a date column is read, decided from a sample of its values."""

    family: str | None  # "compact", "year_first", "year_last", or None: no dates seen
    formats: tuple[str, ...]  # strptime formats, the one that reads most of the probe first
    probe: tuple[str, ...]  # the sampled values the formats were ranked on
    separator: str = ""
    order: str = ""  # year-last dates: "day" or "month" first
    decided: bool = True  # False: the order is a guess by the separator

    def flipped(self) -> DatePlan:
        """The other day/month order, taken as decided (the data showed it)."""
        order = "day" if self.order == "month" else "month"
        formats = _date_formats(self.family, self.separator, order)
        return DatePlan(self.family, _ranked(formats, self.probe), self.probe,
                        self.separator, order, True)


def plan_dates(texts: list[str]) -> DatePlan:
    """The date plan for sampled (stripped, non-empty) values of a column."""
    family, sep = _family(texts)
    probe = tuple(texts[:200])
    if family is None:
        return DatePlan(None, (), probe)
    if family != "year_last":
        return DatePlan(family, _ranked(_date_formats(family, sep, ""), probe), probe, sep)
    order = _year_last_order(texts, sep)
    decided = order is not None
    order = order or ("month" if sep == "/" else "day")
    return DatePlan(family, _ranked(_date_formats(family, sep, order), probe), probe, sep,
                    order, decided)


def _ranked(formats: list[str], probe: tuple[str, ...]) -> tuple[str, ...]:
    probe_array = pa.array(probe, pa.string())
    return tuple(sorted(formats, key=lambda f: -pc.count(_strptime(probe_array, f)).as_py()))


def read_dates(values, plan: DatePlan) -> np.ndarray:
    """``values`` as datetime64[ns] (NaT where missing or unparseable): each value
    with the first of the plan's formats that reads it."""
    if plan.family is None:
        return np.full(len(values), np.datetime64("NaT"), "datetime64[ns]")
    out = _strptime(values, plan.formats[0]).to_numpy(zero_copy_only=False).astype("datetime64[ns]")
    unparsed = np.isnat(out) & ~np.asarray(pc.is_null(values))
    pending = np.flatnonzero(unparsed)
    if len(pending):
        # filter, unlike take, never concatenates the chunks of a long column
        rest = values.filter(pa.array(unparsed))
        rest = pc.replace_substring_regex(pc.utf8_trim_whitespace(rest),
                                          r"(\d:\d\d)\.\d+", r"\1")
        for fmt in plan.formats:
            if not len(pending):
                break
            parsed = _strptime(rest, fmt).to_numpy(zero_copy_only=False).astype("datetime64[ns]")
            hit = ~np.isnat(parsed)
            out[pending[hit]] = parsed[hit]
            pending, rest = pending[~hit], rest.filter(pa.array(~hit))
    return out


def other_order_reads(values, dates: np.ndarray, plan: DatePlan) -> bool:
    """Whether values the plan's guessed day/month order could not read are dates in
    the other order (which then proves it)."""
    failed = np.isnat(dates) & ~np.asarray(pc.is_null(values))
    if plan.decided or not failed.any():
        return False
    return not np.isnat(read_dates(values.filter(pa.array(failed)), plan.flipped())).all()


def shows_day_above_12(dates: np.ndarray) -> bool:
    """A parsed day of month above 12 proves the order the dates were read in."""
    day = dates.astype("datetime64[D]") - dates.astype("datetime64[M]").astype("datetime64[D]")
    return bool((day.astype(np.int64) >= 12).any())


def parse_dates(values: pa.ChunkedArray) -> ParsedDates:
    missing = np.asarray(pc.is_null(values))
    plan = plan_dates(sample(values))
    out = read_dates(values, plan)
    if plan.family == "year_last" and other_order_reads(values, out, plan):
        plan = plan.flipped()
        out = read_dates(values, plan)
    decided = plan.decided or shows_day_above_12(out)
    return ParsedDates(out, missing, plan.formats[0] if plan.formats else None, not decided)


def _decimal_comma(values, delimiter: str) -> bool:
    if delimiter == ",":
        return False
    if pc.any(pc.match_substring_regex(values, r"\d,\d{1,2}$")).as_py():
        return True
    return delimiter == ";" and bool(pc.any(pc.match_substring_regex(values, r"\d,\d")).as_py())


def parse_numbers(values: pa.ChunkedArray, delimiter: str) -> tuple[np.ndarray, np.ndarray]:
    """Float64 values (NaN when missing or unparseable) and the missing mask."""
    missing = np.asarray(pc.is_null(values))
    return read_numbers(values, delimiter)[0], missing


def read_numbers(values, delimiter: str, decimal_comma: bool | None = None
                 ) -> tuple[np.ndarray, bool | None]:
    """Float64 values (NaN when missing or unparseable) and the decimal mark used:
    None when every value was a plain number, else whether it was the comma (decided
    from ``values`` unless ``decimal_comma`` is given)."""
    out = None
    if not decimal_comma:
        try:
            out = pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)
        except pa.ArrowInvalid:
            pass
    if out is None:
        out, decimal_comma = _parse_messy_numbers(values, delimiter, decimal_comma)
    else:
        decimal_comma = None
    return np.where(np.isfinite(out), out, np.nan), decimal_comma


def _parse_messy_numbers(values, delimiter: str, decimal_comma: bool | None
                         ) -> tuple[np.ndarray, bool]:
    text = pc.replace_substring_regex(
        pc.utf8_trim_whitespace(values), r"[\p{Sc}\s']|^[A-Za-z]{3}|[A-Za-z]{3}$", "")
    text = pc.replace_substring_regex(text, r"^\((.*)\)$", r"-\1")
    if decimal_comma is None:
        decimal_comma = _decimal_comma(text, delimiter)
    decimal, thousands = (",", ".") if decimal_comma else (".", ",")
    grouped = pc.match_substring_regex(
        text, rf"^[+-]?\d{{1,3}}(\{thousands}\d{{3}})+(\{decimal}\d*)?$")
    text = pc.if_else(grouped, pc.replace_substring(text, thousands, ""), text)
    text = pc.replace_substring(text, decimal, ".")
    ok = pc.match_substring_regex(text, _NUMBER)
    text = pc.if_else(ok, text, pa.scalar(None, pa.string()))
    return pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False), decimal_comma
