"""The BG/NBD model of repeat buying (Fader, Hardie & Lee 2005, "Counting your customers" the
easy way, Marketing Science 24(2), 275-284).

While alive, a customer buys at a Poisson rate ``lambda ~ Gamma(r, alpha)``; after each repeat
purchase they drop out for good with probability ``p ~ Beta(a, b)``. Each customer is summarised
by three numbers measured from their first purchase: ``frequency`` x (repeat purchases),
``recency`` t_x (time of the last one) and ``T`` (time observed). :func:`rfm_summary` builds that
summary from orders; :class:`BGNBD` fits the four parameters by maximum likelihood and predicts
future purchases and the probability that a customer is still alive.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize, special

from core import schema

FREQUENCY = "frequency"
RECENCY = "recency"
T_COLUMN = "T"

_DAY = pd.Timedelta(days=1)
_LOG_BOUND = 20.0  # fitted parameters stay within exp(-20) .. exp(20)
_NEAR_ONE = 1e-7  # |a - 1| below this: average the expectation over a = 1 -/+ this

FloatArray = npt.NDArray[np.float64]


def rfm_summary(orders: pd.DataFrame, *, at: pd.Timestamp, unit_days: float = 7.0) -> pd.DataFrame:
    """Summarise each customer's purchases before ``at`` as BG/NBD inputs.

    Orders are collapsed to distinct (customer, calendar day) pairs, so several orders on one
    day make one transaction. Times are counted in whole calendar days, as in the BTYD package
    and Fader, Hardie & Lee's CDNOW data: a purchase on day d happens at time d, and observation
    ends on the last calendar day before ``at`` (the day of ``at`` itself when ``at`` is not a
    midnight). So with ``at = 1997-10-01``, a customer who first bought on 1997-01-01 has
    ``T = 272 / 7 = 38.86`` weeks, and one who first bought on 1997-09-30 has ``T = 0``. This
    is the convention that reproduces the paper's published CDNOW estimates; measuring T up to
    ``at`` itself would add one day to every T. Orders at or after ``at`` are ignored, so adding
    them never changes the summary.

    Args:
        orders: one row per order (or order line) with columns ``user_id`` and ``timestamp``.
        at: end of the observation period (exclusive).
        unit_days: length of the time unit in days (7 gives weeks).

    Returns:
        One row per customer with an order before ``at``, indexed by ``user_id`` in sorted
        order, with float columns ``frequency`` (x, repeat purchase days), ``recency`` (t_x,
        first to last purchase day) and ``T`` (first purchase day to the period's last day).

    Raises:
        ValueError: if a column is missing, a user id or timestamp is missing, timestamps do not
            parse, ``at`` and the timestamps disagree about time zones, or ``unit_days`` is not
            positive.
    """
    if not np.isfinite(unit_days) or unit_days <= 0:
        raise ValueError(f"unit_days must be a positive number of days, got {unit_days!r}.")
    missing = [c for c in (schema.USER_ID, schema.TIMESTAMP) if c not in orders.columns]
    if missing:
        raise ValueError(f"orders need the column(s) {', '.join(missing)}.")
    users = orders[schema.USER_ID]
    try:
        stamps = pd.to_datetime(orders[schema.TIMESTAMP])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"orders have timestamps that are not dates: {exc}") from exc
    if users.isna().any():
        raise ValueError("orders have rows without a user_id.")
    if stamps.isna().any():
        raise ValueError("orders have rows without a timestamp.")
    at = pd.Timestamp(at)
    if (stamps.dt.tz is None) != (at.tz is None):
        raise ValueError("`at` and the order timestamps must both have a time zone, or neither.")
    if at.tz is not None:
        at = at.tz_convert(stamps.dt.tz)  # calendar days are those of the orders' time zone

    keep = (stamps < at).to_numpy()
    days = pd.DataFrame(
        {
            schema.USER_ID: users[keep].reset_index(drop=True),
            "day": stamps[keep].dt.floor("D").reset_index(drop=True),
        }
    )
    per_user = days.drop_duplicates().groupby(schema.USER_ID, observed=True, sort=True)["day"]
    first = per_user.min()
    last = per_user.max()
    end = (at - pd.Timedelta(1, "ns")).floor("D")  # the period's last calendar day
    unit = _DAY * unit_days
    summary = pd.DataFrame(
        {
            FREQUENCY: (per_user.size() - 1).astype("float64"),
            RECENCY: (last - first) / unit,
            T_COLUMN: (end - first) / unit,
        }
    )
    summary.index.name = schema.USER_ID
    return summary


def _as_float_array(values: npt.ArrayLike, name: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite numbers (found NaN or infinity).")
    if np.any(array < 0):
        raise ValueError(f"{name} must not be negative.")
    return array


def _check_summary(
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,  # noqa: N803
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Validate and broadcast (x, t_x, T)."""
    x = _as_float_array(frequency, "frequency")
    t_x = _as_float_array(recency, "recency")
    big_t = _as_float_array(T, "T")
    try:
        x, t_x, big_t = np.broadcast_arrays(x, t_x, big_t)
    except ValueError as exc:
        raise ValueError(
            f"frequency, recency and T must have matching shapes, got {x.shape}, {t_x.shape} "
            f"and {big_t.shape}."
        ) from exc
    if np.any(x != np.round(x)):
        raise ValueError("frequency must be whole numbers of repeat purchases.")
    if np.any(t_x > big_t):
        raise ValueError("recency must not exceed T (the last purchase is after the period end).")
    if np.any((x == 0) & (t_x > 0)):
        raise ValueError("recency must be 0 for customers with frequency 0.")
    return x, t_x, big_t


class _Likelihood:
    """Weighted BG/NBD log-likelihood (paper eq. 6) of a customer summary, with its gradient.

    Everything that depends on x alone (gamma and beta functions, digammas) is computed once per
    distinct x, which is a whole number with few distinct values; per customer only two logs, a
    log-add-exp and an exp remain.
    """

    def __init__(
        self,
        x: FloatArray,
        t_x: FloatArray,
        big_t: FloatArray,
        weights: FloatArray,
    ) -> None:
        self.levels, self.level_of = np.unique(x, return_inverse=True)
        self.level_weights = np.bincount(self.level_of, weights=weights).astype(np.float64)
        self.repeat_levels = self.levels > 0
        # x - 1 of repeat buyers, 0 for x = 0 (whose dropout term is masked out anyway).
        self.levels_m1 = np.where(self.repeat_levels, self.levels - 1.0, 0.0)
        self.t_x = t_x
        self.big_t = big_t
        self.weights = weights
        self.weights_x = weights * x

    def per_row(self, params: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Log-likelihood of each row, and each row's weight of the dropout term."""
        r, alpha, a, b = params
        levels = self.levels
        ln_beta_ab = special.betaln(a, b)
        base = special.gammaln(r + levels) - special.gammaln(r) + r * np.log(alpha)
        c_alive = base + special.betaln(a, b + levels) - ln_beta_ab
        c_dead = base + special.betaln(a + 1.0, b + self.levels_m1) - ln_beta_ab
        c_dead = np.where(self.repeat_levels, c_dead, -np.inf)
        at = self.level_of
        rx = (r + levels)[at]
        u_alive = c_alive[at] - rx * np.log(alpha + self.big_t)
        u_dead = c_dead[at] - rx * np.log(alpha + self.t_x)
        loglik = np.logaddexp(u_alive, u_dead)
        return loglik, np.exp(u_dead - loglik)

    def value_and_gradient(self, params: FloatArray) -> tuple[float, FloatArray]:
        """Total weighted log-likelihood and its gradient in log-parameters."""
        r, alpha, a, b = params
        levels = self.levels
        loglik, p_dead = self.per_row(params)
        w = self.weights
        w_dead = w * p_dead
        w_alive = w - w_dead
        lw = self.level_weights
        d_r = lw @ (special.digamma(r + levels) - special.digamma(r) + np.log(alpha))
        d_r -= w_alive @ np.log(alpha + self.big_t) + w_dead @ np.log(alpha + self.t_x)
        rx_w_alive = (r * w_alive + self.weights_x * (1.0 - p_dead)) @ (1.0 / (alpha + self.big_t))
        rx_w_dead = (r * w_dead + self.weights_x * p_dead) @ (1.0 / (alpha + self.t_x))
        d_alpha = r / alpha * lw.sum() - rx_w_alive - rx_w_dead
        psi_ab = special.digamma(a + b)
        psi_abx = special.digamma(a + b + levels)
        # d/da and d/db of the alive term; the dropout term differs by 1/a and -1/(b+x-1).
        d_a = lw @ (psi_ab - psi_abx) + w_dead.sum() / a
        d_b = lw @ (special.digamma(b + levels) - psi_abx - special.digamma(b) + psi_ab)
        d_b -= w_dead @ (1.0 / (b + self.levels_m1[self.level_of]))
        gradient = np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
        return float(w @ loglik), gradient


def _euler_expectation(
    r: float, alpha: float, a: float, b: float, x: FloatArray, observed: FloatArray, t: FloatArray
) -> FloatArray:
    """Expected purchases in the next ``t`` of a customer alive now, after x repeat purchases
    in ``observed`` time since the first (x = observed = 0 for a new customer).

    This is ``(a+b+x-1)/(a-1) * [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)]``
    with ``z = t/(alpha+T+t)`` (paper eqs. 7 and 10). The Euler transformation turns the power
    times 2F1 into ``(1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)``, whose upper parameters do not
    grow with x, so it stays finite for large x where the original 2F1 overflows.
    """
    z = t / (alpha + observed + t)
    c = a + b + x - 1.0
    hyp = special.hyp2f1(a + b - 1.0 - r, a - 1.0, c, z)
    log_power = (a - 1.0) * np.log1p(-z)
    positive = hyp > 0
    # 1 - (1-z)^(a-1) 2F1 via expm1 (accurate for small t); directly where 2F1 <= 0, which
    # can only happen for x = 0 with a + b < 1 (then c < 0).
    log_scaled = log_power + np.log(np.where(positive, hyp, 1.0))
    bracket = np.where(positive, -np.expm1(log_scaled), 1.0 - np.exp(log_power) * hyp)
    return c / (a - 1.0) * bracket


class BGNBD:
    """Beta-geometric / negative binomial distribution model of repeat purchasing.

    Attributes:
        penalizer: weight of an L2 penalty ``penalizer * (r^2 + alpha^2 + a^2 + b^2)`` added to
            the mean negative log-likelihood while fitting (0 is plain maximum likelihood; alpha
            depends on the time unit, so the penalty does too).
        r_: shape of the gamma distribution of purchase rates (after :meth:`fit`).
        alpha_: scale of the gamma distribution of purchase rates, in time units.
        a_: first shape of the beta distribution of dropout probabilities.
        b_: second shape of the beta distribution of dropout probabilities.
        log_likelihood_: total log-likelihood of the fitting data at the fitted parameters
            (without the penalty).
    """

    r_: float
    alpha_: float
    a_: float
    b_: float
    log_likelihood_: float

    def __init__(self, *, penalizer: float = 0.0) -> None:
        """Create an unfitted model.

        Args:
            penalizer: non-negative weight of the L2 penalty on the parameters.

        Raises:
            ValueError: if ``penalizer`` is negative or not finite.
        """
        if not np.isfinite(penalizer) or penalizer < 0:
            raise ValueError(f"penalizer must be a non-negative number, got {penalizer!r}.")
        self.penalizer = float(penalizer)

    def __repr__(self) -> str:
        """Show the parameters once fitted."""
        if not hasattr(self, "r_"):
            return f"BGNBD(penalizer={self.penalizer})"
        return f"BGNBD(r={self.r_:.4g}, alpha={self.alpha_:.4g}, a={self.a_:.4g}, b={self.b_:.4g})"

    def fit(
        self,
        frequency: npt.ArrayLike,
        recency: npt.ArrayLike,
        T: npt.ArrayLike,  # noqa: N803
    ) -> BGNBD:
        """Fit the parameters by maximum likelihood.

        Identical (x, t_x, T) rows are merged and weighted by their count; the likelihood
        (paper eq. 6) is computed in log space and maximised over log-parameters with L-BFGS-B
        and an analytic gradient.

        Args:
            frequency: repeat purchases x per customer (whole numbers).
            recency: time t_x from first to last purchase (0 when x is 0).
            T: time from first purchase to the end of the observation period.

        Returns:
            The fitted model itself.

        Raises:
            ValueError: if the inputs are invalid, empty or hold no repeat purchase at all
                (the purchase rate is then not identifiable).
            RuntimeError: if the optimiser does not reach a finite optimum.
        """
        x, t_x, big_t = _check_summary(frequency, recency, T)
        rows = np.column_stack([x.ravel(), t_x.ravel(), big_t.ravel()])
        if len(rows) == 0:
            raise ValueError("cannot fit a BG/NBD model to zero customers.")
        if not np.any(rows[:, 0] > 0):
            raise ValueError("cannot fit a BG/NBD model: no customer has a repeat purchase.")
        if not np.any(rows[:, 2] > 0):
            raise ValueError("cannot fit a BG/NBD model: every customer has T = 0.")
        unique, counts = np.unique(rows, axis=0, return_counts=True)
        weights = counts.astype(np.float64)
        likelihood = _Likelihood(unique[:, 0], unique[:, 1], unique[:, 2], weights)
        total = weights.sum()
        penalizer = self.penalizer

        def objective(log_params: FloatArray) -> tuple[float, FloatArray]:
            params = np.exp(log_params)
            loglik, gradient = likelihood.value_and_gradient(params)
            value = -loglik / total + penalizer * float(params @ params)
            if not np.isfinite(value):
                return np.inf, np.zeros(4)
            return value, -gradient / total + 2.0 * penalizer * params * params

        # Start at r = a = b = 1 with the mean purchase rate r / alpha = mean x / mean T.
        mean_x = float(weights @ unique[:, 0]) / total
        mean_t = float(weights @ unique[:, 2]) / total
        start = np.log([1.0, max(mean_t / max(mean_x, 1e-3), 1e-3), 1.0, 1.0])
        bounds = [(-_LOG_BOUND, _LOG_BOUND)] * 4
        result = optimize.minimize(
            objective,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 1000, "ftol": 1e-13, "gtol": 1e-9},
        )
        if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
            raise RuntimeError(f"BG/NBD fit did not converge: {result.message}")
        self.r_, self.alpha_, self.a_, self.b_ = (float(v) for v in np.exp(result.x))
        self.log_likelihood_ = likelihood.value_and_gradient(np.exp(result.x))[0]
        return self

    def _params(self) -> tuple[float, float, float, float]:
        if not hasattr(self, "r_"):
            raise RuntimeError("this BGNBD model is not fitted yet; call fit() first.")
        return self.r_, self.alpha_, self.a_, self.b_

    def _expected_if_alive(self, x: FloatArray, observed: FloatArray, t: FloatArray) -> FloatArray:
        """Eq. 10's numerator (eq. 7 for x = observed = 0), also at the singular point a = 1."""
        r, alpha, a, b = self._params()
        if abs(a - 1.0) >= _NEAR_ONE:
            return _euler_expectation(r, alpha, a, b, x, observed, t)
        # a = 1 is a removable singularity: the mean of both sides is accurate to O(eps^2).
        below = _euler_expectation(r, alpha, 1.0 - _NEAR_ONE, b, x, observed, t)
        above = _euler_expectation(r, alpha, 1.0 + _NEAR_ONE, b, x, observed, t)
        return 0.5 * (below + above)

    def probability_alive(
        self,
        frequency: npt.ArrayLike,
        recency: npt.ArrayLike,
        T: npt.ArrayLike,  # noqa: N803
    ) -> FloatArray:
        """Probability that each customer is still alive at the end of observation.

        ``1 / (1 + a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x))`` for x > 0, computed in log
        space; 1 for x = 0 (in the BG/NBD a customer can only drop out after a repeat purchase).

        Args:
            frequency: repeat purchases x per customer.
            recency: time t_x from first to last purchase.
            T: time from first purchase to the end of observation.

        Returns:
            Probabilities in (0, 1], one per customer (a customer who has almost surely dropped
            out can underflow to 0.0).

        Raises:
            ValueError: if the inputs are invalid.
            RuntimeError: if the model is not fitted.
        """
        r, alpha, a, b = self._params()
        x, t_x, big_t = _check_summary(frequency, recency, T)
        repeat = x > 0
        x1 = np.where(repeat, x, 1.0)
        log_odds_dead = (
            np.log(a)
            - np.log(b + x1 - 1.0)
            + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x))
        )
        return np.where(repeat, special.expit(-log_odds_dead), 1.0)

    def expected_purchases(
        self,
        t: npt.ArrayLike,
        frequency: npt.ArrayLike,
        recency: npt.ArrayLike,
        T: npt.ArrayLike,  # noqa: N803
    ) -> FloatArray:
        """Expected purchases in the next ``t`` time units given each customer's history.

        ``E[Y(t) | x, t_x, T]`` (paper eq. 10), evaluated with an Euler-transformed 2F1 that
        stays finite for large x, and with the alive probability in log space.

        Args:
            t: length of the future period (scalar, or broadcastable with the customers).
            frequency: repeat purchases x per customer.
            recency: time t_x from first to last purchase.
            T: time from first purchase to the end of observation.

        Returns:
            Expected purchases, one per customer (broadcast shape of the inputs).

        Raises:
            ValueError: if the inputs or ``t`` are invalid.
            RuntimeError: if the model is not fitted.
        """
        self._params()
        horizon = _as_float_array(t, "t")
        x, t_x, big_t = _check_summary(frequency, recency, T)
        horizon, x, t_x, big_t = np.broadcast_arrays(horizon, x, t_x, big_t)
        alive = self.probability_alive(x, t_x, big_t)
        return self._expected_if_alive(x, big_t, horizon) * alive

    def expected_purchases_new(self, t: float) -> float:
        """Expected repeat purchases in ``(0, t]`` of a customer who first bought at time 0.

        ``E[X(t)]`` (paper eq. 7).

        Args:
            t: length of the period, in time units.

        Returns:
            The expected number of repeat purchases.

        Raises:
            ValueError: if ``t`` is negative or not finite.
            RuntimeError: if the model is not fitted.
        """
        self._params()
        horizon = _as_float_array(t, "t")
        if horizon.ndim != 0:
            raise ValueError("t must be a single number.")
        zero = np.zeros(1)
        return float(self._expected_if_alive(zero, zero, horizon.reshape(1))[0])
