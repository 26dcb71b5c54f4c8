"""Estimators (scikit-learn's contract: ``__init__`` stores hyper-parameters, ``fit``
returns ``self``, fitted attributes end in ``_``), each with ``to_dict``/``from_dict``
for ``models.artifacts``.

``btyd`` (BG/NBD and Gamma-Gamma fitters), ``clv`` (past-spend baseline and BTYD spend),
``clv_boosting`` (Tweedie trees), ``churn`` (recency, BG/NBD and calibrated trees),
``table`` (customer-table regressor); ``boosting`` is the XGBoost plumbing they share.
"""
