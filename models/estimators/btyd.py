"""Buy-till-you-die models: BG/NBD for purchase counts, Gamma-Gamma for spend.

Both fitters maximise the log-likelihood over the logarithms of their parameters
with L-BFGS-B and analytic gradients, so a fit on 500,000 customers takes seconds.

* BG/NBD: Fader, Hardie & Lee (2005), "Counting your customers the easy way".
  Inputs per customer: ``frequency`` (repeat purchases), ``recency`` (time of the last
  purchase since the first) and ``T`` (age since the first purchase), all in one time
  unit (the product uses days). ``alpha`` is expressed in that unit.
* Gamma-Gamma: Fader & Hardie (2013), note 025 "The Gamma-Gamma model of monetary
  value". Inputs: ``frequency`` and ``monetary_value`` (mean spend per repeat purchase);
  only customers with ``frequency > 0`` enter the likelihood. Parameters ``p``, ``q``
  and ``v`` (the note's γ, in money units).

The optional ``penalizer`` adds ``penalizer * sum(log(theta_k)**2)`` to the mean
negative log-likelihood. Time and money are rescaled internally to unit means before
optimising, so the penalty (and the conditioning) does not depend on the unit;
``alpha`` and ``v`` in ``params_`` are reported in the caller's units and
``log_likelihood_`` is the log-likelihood of the data in those units.

Per-customer constants are computed once per fit, Gamma-function terms once per distinct
repeat count; BLAS runs single-threaded in the optimiser (3–4 parameters: threads only wait).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, special
from threadpoolctl import threadpool_limits

MIN_CUSTOMERS = 10


class _BaseFitter:
    """Shared optimisation, summary and JSON persistence for the BTYD fitters."""

    _param_names: tuple[str, ...] = ()
    _scaled_param: str = ""

    def __init__(self, penalizer: float = 0.0):
        self.penalizer = penalizer

    def _nll_and_grad(self, log_params: np.ndarray, data: tuple) -> tuple[float, np.ndarray]:
        raise NotImplementedError

    @threadpool_limits.wrap(limits=1, user_api="blas")
    def _fit(self, data: tuple, scale: float, ll_shift: float, initial: np.ndarray):
        if self.penalizer < 0:
            raise ValueError("penalizer must be non-negative")
        n = len(data[0])

        def objective(log_params):
            nll, grad = self._nll_and_grad(log_params, data)
            penalty = self.penalizer * np.sum(log_params**2)
            return nll / n + penalty, grad / n + 2.0 * self.penalizer * log_params

        # The line search may probe parameters where the likelihood overflows; those
        # steps are rejected by the optimiser, so the floating-point warnings are noise.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            result = optimize.minimize(
                objective, initial, jac=True, method="L-BFGS-B",
                options={"maxiter": 2000, "gtol": 1e-10, "ftol": 1e-14},
            )
        if not np.all(np.isfinite(result.x)):
            raise ValueError(f"{type(self).__name__} did not converge: {result.message}")
        log_params = result.x
        params = dict(zip(self._param_names, np.exp(log_params), strict=True))
        params[self._scaled_param] *= scale
        self.params_ = {name: float(value) for name, value in params.items()}
        self.n_customers_ = int(n)
        self.converged_ = bool(result.success)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            self.log_likelihood_ = float(-self._nll_and_grad(log_params, data)[0] + ll_shift)
            self._log_se = self._log_standard_errors(objective, log_params, n)
            self.summary_ = self._make_summary()
        return self

    @staticmethod
    def _log_standard_errors(objective, log_params: np.ndarray, n: int) -> np.ndarray:
        """Standard errors of the log-parameters from a finite-difference Hessian."""
        k = len(log_params)
        hessian = np.empty((k, k))
        step = 1e-5
        for j in range(k):
            shift = np.zeros(k)
            shift[j] = step
            hessian[:, j] = (objective(log_params + shift)[1] - objective(log_params - shift)[1]) / (2 * step)
        hessian = n * (hessian + hessian.T) / 2.0
        try:
            covariance = np.linalg.inv(hessian)
            variances = np.diag(covariance)
        except np.linalg.LinAlgError:
            variances = np.full(k, np.nan)
        return np.where(variances > 0, np.sqrt(np.abs(variances)), np.nan)

    def _make_summary(self) -> pd.DataFrame:
        coef = np.array([self.params_[name] for name in self._param_names])
        log_se = self._log_se
        # Delta method: se(theta) = theta * se(log theta); the interval is exact in log space.
        # A parameter the data barely determine has an unbounded interval (inf), not an error.
        with np.errstate(over="ignore"):
            lower, upper = coef * np.exp(-1.96 * log_se), coef * np.exp(1.96 * log_se)
        return pd.DataFrame(
            {
                "coef": coef,
                "se(coef)": coef * log_se,
                "lower 95% bound": lower,
                "upper 95% bound": upper,
            },
            index=pd.Index(self._param_names, name="param"),
        )

    def _check_fitted(self):
        if not hasattr(self, "params_"):
            raise ValueError(f"{type(self).__name__} is not fitted; call fit() first")

    def to_dict(self) -> dict:
        """JSON-ready description of the fitted model."""
        self._check_fitted()
        return {
            "model": type(self).__name__,
            "penalizer": float(self.penalizer),
            "params": dict(self.params_),
            "log_likelihood": self.log_likelihood_,
            "n_customers": self.n_customers_,
            "converged": self.converged_,
            "log_se": [float(v) if np.isfinite(v) else None for v in self._log_se],
        }

    @classmethod
    def from_dict(cls, payload: dict):
        """Rebuild a fitted model from :meth:`to_dict` output."""
        if payload.get("model") != cls.__name__:
            raise ValueError(f"payload describes {payload.get('model')!r}, not {cls.__name__}")
        model = cls(penalizer=payload.get("penalizer", 0.0))
        missing = set(cls._param_names) - set(payload["params"])
        if missing:
            raise ValueError(f"payload lacks parameters {sorted(missing)}")
        model.params_ = {name: float(payload["params"][name]) for name in cls._param_names}
        model.log_likelihood_ = payload.get("log_likelihood")
        model.n_customers_ = payload.get("n_customers")
        model.converged_ = bool(payload.get("converged", True))
        log_se = payload.get("log_se") or [None] * len(cls._param_names)
        model._log_se = np.array([np.nan if v is None else v for v in log_se], dtype=float)
        model.summary_ = model._make_summary()
        return model


def _as_array(values, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float).reshape(-1)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains missing or infinite values")
    if np.any(array < 0):
        raise ValueError(f"{name} must be non-negative")
    return array


def _distinct(x: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """((distinct values, how many customers have each), each customer's position)."""
    values, inverse, count = np.unique(x, return_inverse=True, return_counts=True)
    return (values, count.astype(float)), inverse


def _check_btyd_inputs(frequency, recency, T) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = _as_array(frequency, "frequency")
    t_x = _as_array(recency, "recency")
    big_t = _as_array(T, "T")
    if not (len(x) == len(t_x) == len(big_t)):
        raise ValueError("frequency, recency and T must have the same length")
    if np.any(x != np.round(x)):
        raise ValueError("frequency must be whole numbers of repeat purchases")
    if np.any(t_x > big_t * (1 + 1e-9)):
        raise ValueError("recency must not exceed T")
    if np.any((x == 0) & (t_x > 0)):
        raise ValueError("recency must be 0 for customers without repeat purchases")
    return x, t_x, big_t


class BetaGeoFitter(_BaseFitter):
    """BG/NBD model: Poisson purchasing with Gamma(r, alpha) rates and Beta(a, b) dropout."""

    _param_names = ("r", "alpha", "a", "b")
    _scaled_param = "alpha"

    def fit(self, frequency, recency, T):
        x, t_x, big_t = _check_btyd_inputs(frequency, recency, T)
        if len(x) < MIN_CUSTOMERS:
            raise ValueError(f"BG/NBD needs at least {MIN_CUSTOMERS} customers, got {len(x)}")
        if not np.any(x > 0):
            raise ValueError("BG/NBD needs at least one customer with a repeat purchase")
        scale = float(np.mean(big_t))
        if scale <= 0:
            raise ValueError("T must be positive for at least one customer")
        # Rescaling time by s changes every customer's density by s**(-x); keep the
        # reported log-likelihood in the caller's units.
        ll_shift = -float(np.sum(x)) * np.log(scale)
        data = (x, t_x / scale, big_t / scale, *_distinct(x))
        return self._fit(data, scale, ll_shift, initial=np.zeros(4))

    def _nll_and_grad(self, log_params, data):
        r, alpha, a, b = np.exp(log_params)
        x, t_x, big_t, (ux, count), inverse = data
        n = len(x)
        # Terms that depend on a customer only through x, once per distinct x.
        repeat_u = ux > 0
        b_x1_u = np.where(repeat_u, b + ux - 1.0, 1.0)
        ll_u = special.gammaln(r + ux) + special.gammaln(b + ux) - special.gammaln(a + b + ux)
        ll_fixed = n * (special.gammaln(a + b) - special.gammaln(r) + r * np.log(alpha)
                        - special.gammaln(b))
        with np.errstate(divide="ignore"):
            drop_u = np.where(repeat_u, np.log(a) - np.log(b_x1_u), -np.inf)
        psi_ab, psi_abx_u = special.digamma(a + b), special.digamma(a + b + ux)
        # Per customer: the mixture of "alive at T" and "dropped out after the last purchase".
        rx = r + x
        log_alpha_t = np.log(alpha + big_t)
        log_alpha_tx = np.log(alpha + t_x)
        a3 = -rx * log_alpha_t
        a4 = drop_u[inverse] - rx * log_alpha_tx
        mix = np.logaddexp(a3, a4)
        w = np.exp(a4 - mix)  # posterior weight of "dropped out after the last purchase"
        w_u = np.bincount(inverse, weights=w, minlength=len(ux))
        ll = ll_fixed + count @ ll_u + mix.sum()
        d_r = (count @ special.digamma(r + ux) + n * (np.log(alpha) - special.digamma(r))
               - log_alpha_t.sum() + w @ (log_alpha_t - log_alpha_tx))
        d_alpha = n * r / alpha - rx @ ((1 - w) / (alpha + big_t) + w / (alpha + t_x))
        d_a = n * psi_ab - count @ psi_abx_u + w_u.sum() / a
        d_b = (n * (psi_ab - special.digamma(b)) + count @ (special.digamma(b + ux) - psi_abx_u)
               - (w_u / b_x1_u).sum())
        grad = np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
        return -float(ll), -grad

    def conditional_probability_alive(self, frequency, recency, T) -> np.ndarray:
        """P(customer still active at T | x, t_x, T); 1 for customers without repeats."""
        self._check_fitted()
        x, t_x, big_t = _check_btyd_inputs(frequency, recency, T)
        r, alpha, a, b = (self.params_[k] for k in self._param_names)
        repeat = x > 0
        b_x1 = np.where(repeat, b + x - 1.0, 1.0)
        log_odds_dead = np.log(a) - np.log(b_x1) + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x))
        return np.where(repeat, special.expit(-log_odds_dead), 1.0)

    def conditional_expected_number_of_purchases_up_to_time(self, t, frequency, recency, T) -> np.ndarray:
        """Expected purchases in (T, T + t] given the history (FHL 2005, eq. 10)."""
        self._check_fitted()
        x, t_x, big_t = _check_btyd_inputs(frequency, recency, T)
        t = np.asarray(t, dtype=float)
        if np.any(t < 0):
            raise ValueError("t must be non-negative")
        r, alpha, a, b = (self.params_[k] for k in self._param_names)
        hyp = special.hyp2f1(r + x, b + x, a + b + x - 1.0, t / (alpha + big_t + t))
        decay = np.exp((r + x) * (np.log(alpha + big_t) - np.log(alpha + big_t + t)))
        numerator = (a + b + x - 1.0) / (a - 1.0) * (1.0 - decay * hyp)
        return numerator * self.conditional_probability_alive(x, t_x, big_t)

    def expected_number_of_purchases_up_to_time(self, t) -> np.ndarray:
        """Expected repeat purchases of a new customer in (0, t] (FHL 2005, eq. 9)."""
        self._check_fitted()
        t = np.asarray(t, dtype=float)
        if np.any(t < 0):
            raise ValueError("t must be non-negative")
        r, alpha, a, b = (self.params_[k] for k in self._param_names)
        hyp = special.hyp2f1(r, b, a + b - 1.0, t / (alpha + t))
        return (a + b - 1.0) / (a - 1.0) * (1.0 - (alpha / (alpha + t)) ** r * hyp)


class GammaGammaFitter(_BaseFitter):
    """Gamma-Gamma spend model: Gamma(p, nu) spend per purchase, Gamma(q, gamma) nu."""

    _param_names = ("p", "q", "v")
    _scaled_param = "v"

    def fit(self, frequency, monetary_value):
        x, m = self._check_inputs(frequency, monetary_value)
        repeat = x > 0
        x, m = x[repeat], m[repeat]
        if len(x) < MIN_CUSTOMERS:
            raise ValueError(
                f"Gamma-Gamma needs at least {MIN_CUSTOMERS} customers with repeat purchases, got {len(x)}"
            )
        if np.any(m <= 0):
            raise ValueError("monetary_value must be positive for customers with frequency > 0")
        scale = float(np.mean(m))
        # The density of the mean spend picks up 1/s per customer under rescaling.
        ll_shift = -len(m) * np.log(scale)
        m = m / scale
        log_m = np.log(m)
        data = (x, x * m, _distinct(x), (x @ np.log(x), x @ log_m, log_m.sum()))
        return self._fit(data, scale, ll_shift, initial=np.array([0.0, np.log(2.0), 0.0]))

    @staticmethod
    def _check_inputs(frequency, monetary_value):
        x = _as_array(frequency, "frequency")
        m = _as_array(monetary_value, "monetary_value")
        if len(x) != len(m):
            raise ValueError("frequency and monetary_value must have the same length")
        return x, m

    def _nll_and_grad(self, log_params, data):
        p, q, v = np.exp(log_params)
        x, spent, ((ux, count), _), (x_log_x, x_log_m, log_m) = data
        n = len(x)
        log_total = np.log(v + spent)  # spent = x · m: a customer's total repeat spend
        pu = p * ux
        psi_pq_u = special.digamma(pu + q)
        ll = (count @ (special.gammaln(pu + q) - special.gammaln(pu))
              + n * (q * np.log(v) - special.gammaln(q)) + p * (x_log_x + x_log_m) - log_m
              - (p * x + q) @ log_total)
        d_p = count @ (ux * (psi_pq_u - special.digamma(pu))) + x_log_x + x_log_m - x @ log_total
        d_q = count @ psi_pq_u + n * (np.log(v) - special.digamma(q)) - log_total.sum()
        d_v = n * q / v - (p * x + q) @ (1.0 / (v + spent))
        grad = np.array([d_p * p, d_q * q, d_v * v])
        return -float(ll), -grad

    def conditional_expected_average_profit(self, frequency, monetary_value) -> np.ndarray:
        """E[spend per purchase | x, mean spend]; the population mean for x = 0."""
        self._check_fitted()
        x, m = self._check_inputs(frequency, monetary_value)
        p, q, v = (self.params_[k] for k in self._param_names)
        if q <= 1:
            raise ValueError("expected spend is undefined for q <= 1")
        return p * (v + x * m) / (p * x + q - 1.0)
