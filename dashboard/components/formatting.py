"""Numbers, money, shares and dates written one way on every page, in the tenant's
currency. Every formatter takes a missing or undefined value and answers an en dash."""

from __future__ import annotations

import math
from datetime import date, datetime

import pandas as pd

MISSING = "–"
# Symbols written before the amount; any other ISO code is written as "CHF 1,200".
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "CNY": "¥",
                    "KRW": "₩", "BRL": "R$", "AUD": "A$", "CAD": "C$", "NZD": "NZ$"}
# Currencies whose amounts have no minor unit.
WHOLE_CURRENCIES = {"JPY", "KRW"}
_SUFFIXES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def currency_prefix(currency: str) -> str:
    """What goes before an amount: "$" or "CHF " (also the axis tick prefix)."""
    code = (currency or "USD").upper()
    return CURRENCY_SYMBOLS.get(code, f"{code} ")


def compact(value: float, digits: int = 1) -> str:
    """1234567 → "1.2M", 950 → "950"."""
    if _missing(value):
        return MISSING
    value = float(value)
    for size, suffix in _SUFFIXES:
        if abs(value) >= size:
            text = f"{value / size:.{digits}f}".rstrip("0").rstrip(".")
            return f"{text}{suffix}"
    return f"{value:,.0f}"


def number(value, digits: int = 0, short: bool = False) -> str:
    """A count or measure with thousands separators: 12,345 (or 12.3k when `short`)."""
    if _missing(value):
        return MISSING
    return compact(value) if short else f"{float(value):,.{digits}f}"


def money(value, currency: str = "USD", short: bool = False, digits: int | None = None) -> str:
    """An amount in the tenant's currency: "$1,234", "-€12.50", "CHF 3.4M"."""
    if _missing(value):
        return MISSING
    value = float(value)
    code = (currency or "USD").upper()
    if digits is None:
        digits = 0 if code in WHOLE_CURRENCIES or abs(value) >= 100 else 2
    body = compact(abs(value)) if short else f"{abs(value):,.{digits}f}"
    return f"{'-' if value < 0 else ''}{currency_prefix(code)}{body}"


def percent(share, digits: int = 1) -> str:
    """A share between 0 and 1 as a percentage: 0.1234 → "12.3 %"."""
    if _missing(share):
        return MISSING
    return f"{float(share) * 100:.{digits}f} %"


def signed_percent(change, digits: int = 1) -> str:
    """A relative change with its sign: +4.2 %, -0.5 %."""
    if _missing(change):
        return MISSING
    return f"{float(change) * 100:+.{digits}f} %"


def day(value) -> str:
    """A date as "5 Jan 2025"; accepts dates, datetimes, timestamps and ISO text."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if not isinstance(value, (date, datetime, pd.Timestamp)):
        try:
            value = pd.Timestamp(value)
        except (TypeError, ValueError):
            return MISSING
    if pd.isna(value):
        return MISSING
    return f"{value.day} {value:%b %Y}"


def month(value) -> str:
    """A month as "Jan 2025" from "2025-01" or any date."""
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        return MISSING
    return MISSING if pd.isna(stamp) else f"{stamp:%b %Y}"
