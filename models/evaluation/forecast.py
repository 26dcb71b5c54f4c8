"""The tenant's forecast total for the next H days with an interval, and its check.

The total is the sum of the CLV champion's per-customer forecasts. Its relative error has
two parts, added as variances on the log scale:

* process noise — customers buy or not, spend more or less, around their expected
  values. A bootstrap over customers of the residuals gives a total whose variance is
  the sum of squared residuals, so the relative spread is ``rmse · √count / total``,
  read from the backtest instead of resampled;
* level error — the whole period comes in above or below the forecast (a season, a
  trend, a step). Its spread is the root mean square of log(total predicted / actual)
  over the rolling origins.

The interval is ``total · exp(± q · spread)``. The level error's spread is estimated from
a handful of origins, so q is Student's t quantile with as many degrees of freedom as
origins went into it (1.89 for 80 % from two origins, 1.64 from three; 1.28, the normal
quantile, only without that count). :func:`interval_check` rebuilds the interval at each
origin from the other origins only (leave one origin out) and says whether it covered the
actual total.
"""

from __future__ import annotations

import math

from scipy.stats import norm, t

LEVEL = 0.8


def _process_spread(row: dict) -> float | None:
    rmse, count, total = row.get("rmse"), row.get("count"), row.get("total_predicted")
    if rmse is None or not count or not total or total <= 0:
        return None
    return rmse * math.sqrt(count) / total


def _log_error(row: dict) -> float | None:
    ratio = row.get("total_ratio")
    return math.log(ratio) if ratio is not None and ratio > 0 else None


def forecast_spread(rows: list[dict]) -> float | None:
    """The relative spread of a forecast total, learnt from backtest rows of one model."""
    process = [s for s in map(_process_spread, rows) if s is not None]
    level = [e for e in map(_log_error, rows) if e is not None]
    if not process:
        return None
    level_var = sum(e * e for e in level) / len(level) if level else 0.0
    return math.sqrt(sum(s * s for s in process) / len(process) + level_var)


def level_origins(rows: list[dict]) -> int:
    """How many origins a spread's level error was estimated from."""
    return sum(1 for row in rows if _log_error(row) is not None)


def total_interval(total: float, spread: float | None, level: float = LEVEL,
                   origins: int | None = None) -> dict:
    """``{"total", "low", "high", "level"}``; without a spread, no bounds. ``origins``:
    how many origins the spread was estimated from (t quantile), else the normal one."""
    if spread is None:
        return {"total": float(total), "low": None, "high": None, "level": level}
    quantile = 0.5 + level / 2
    z = float(t.ppf(quantile, df=origins) if origins else norm.ppf(quantile))
    return {"total": float(total), "low": float(total * math.exp(-z * spread)),
            "high": float(total * math.exp(z * spread)), "level": level}


def interval_check(rows: list[dict], level: float = LEVEL) -> list[dict]:
    """For each origin: the interval from the other origins and whether it covered."""
    checks = []
    for i, row in enumerate(rows):
        others = rows[:i] + rows[i + 1:]
        used = others or [row]
        interval = total_interval(row["total_predicted"], forecast_spread(used), level,
                                  level_origins(used))
        actual = row["total_actual"]
        covered = (None if interval["low"] is None
                   else bool(interval["low"] <= actual <= interval["high"]))
        checks.append({"cutoff": row["cutoff"], **interval, "actual": actual,
                       "covered": covered})
    return checks


def coverage(checks: list[dict]) -> float | None:
    judged = [c["covered"] for c in checks if c["covered"] is not None]
    return sum(judged) / len(judged) if judged else None
