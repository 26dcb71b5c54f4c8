"""Out-of-time evaluation: ``windows`` (cut-offs), ``data`` (feature tables and targets at
each cut-off), ``metrics``, ``backtest`` (the result type), ``clv`` and ``churn`` (the
candidates' backtests and champion rules) and ``customer_table`` (cross-validation
with the leakage guard).
"""
