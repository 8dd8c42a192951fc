"""Tests for the BG/NBD model: published CDNOW results, hand-checkable properties, parameter
recovery from simulated customers and numerical stability."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special

from core.ml.bgnbd import BGNBD, rfm_summary

CDNOW_EVENTS = (
    Path(__file__).resolve().parents[3] / "shared" / "data" / "cdnow_sample" / "events.csv"
)
CALIBRATION_END = pd.Timestamp("1997-10-01")  # calibration is 1997-01-01 .. 1997-09-30
HOLDOUT_END = pd.Timestamp("1998-07-01")  # holdout is 1997-10-01 .. 1998-06-30, 39 weeks
# Fader, Hardie & Lee (2005), section 4: the BG/NBD fitted to the 2,357 CDNOW customers.
PUBLISHED = {"r_": 0.243, "alpha_": 4.414, "a_": 0.793, "b_": 2.426}
PUBLISHED_LOG_LIKELIHOOD = -9582.4


def model(r: float, alpha: float, a: float, b: float) -> BGNBD:
    """A model with given parameters, as if fitted."""
    fitted = BGNBD()
    fitted.r_, fitted.alpha_, fitted.a_, fitted.b_ = r, alpha, a, b
    return fitted


def simulate(
    n: int,
    r: float,
    alpha: float,
    a: float,
    b: float,
    rng: np.random.Generator,
    t_range: tuple[float, float],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw (x, t_x, T) from the BG/NBD story: purchases at Poisson rate lambda ~ Gamma(r, alpha)
    and, after each repeat purchase, dropout with probability p ~ Beta(a, b)."""
    big_t = rng.uniform(*t_range, size=n)
    rate = rng.gamma(r, 1.0 / alpha, size=n)
    p = rng.beta(a, b, size=n)
    last_possible = rng.geometric(p)  # the repeat purchase right after which they drop out
    arrivals = rng.poisson(rate * big_t)  # purchases in (0, T] had they stayed alive
    x = np.minimum(last_possible, arrivals)
    # The x-th of `arrivals` uniform arrival times is T * Beta(x, arrivals - x + 1).
    t_x = np.where(x > 0, big_t * rng.beta(np.maximum(x, 1), arrivals - x + 1), 0.0)
    return x.astype(np.float64), t_x, big_t


def paper_conditional_expectation(
    fitted: BGNBD, t: float, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray
) -> np.ndarray:
    """Eq. (10) exactly as printed, with the untransformed 2F1 (fine for small x)."""
    r, alpha, a, b = fitted.r_, fitted.alpha_, fitted.a_, fitted.b_
    hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + big_t + t))
    numerator = (
        (a + b + x - 1) / (a - 1) * (1 - ((alpha + big_t) / (alpha + big_t + t)) ** (r + x) * hyp)
    )
    ratio = np.where(x > 0, a / np.maximum(b + x - 1, 1e-300), 0.0)
    return numerator / (1 + ratio * ((alpha + big_t) / (alpha + t_x)) ** (r + x))


# --- CDNOW: the paper's data ----------------------------------------------------------------


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    if not CDNOW_EVENTS.is_file():
        pytest.skip(f"the CDNOW sample is not present at {CDNOW_EVENTS}")
    return pd.read_csv(CDNOW_EVENTS, parse_dates=["timestamp"])


@pytest.fixture(scope="module")
def cdnow_summary(cdnow: pd.DataFrame) -> pd.DataFrame:
    return rfm_summary(cdnow, at=CALIBRATION_END)


@pytest.fixture(scope="module")
def cdnow_model(cdnow_summary: pd.DataFrame) -> BGNBD:
    s = cdnow_summary
    return BGNBD().fit(s["frequency"], s["recency"], s["T"])


def test_the_cdnow_calibration_summary_matches_the_papers_data(cdnow_summary):
    s = cdnow_summary
    assert len(s) == 2357
    assert s["frequency"].sum() == 2457  # repeat purchase days in the 39 calibration weeks
    assert s["T"].max() == pytest.approx(272 / 7)  # first bought 1997-01-01: 38.86 weeks
    first_customer = s.iloc[0]  # bought on 01-01, 01-18 and 08-02 in calibration
    assert first_customer["frequency"] == 2
    assert first_customer["recency"] == pytest.approx(213 / 7)


def test_fitting_the_cdnow_sample_reproduces_the_published_parameters(cdnow_model):
    for name, published in PUBLISHED.items():
        assert getattr(cdnow_model, name) == pytest.approx(published, rel=0.01), name
    assert cdnow_model.log_likelihood_ == pytest.approx(PUBLISHED_LOG_LIKELIHOOD, abs=0.1)


def test_the_cdnow_holdout_forecast_is_close_to_the_actual_repeat_purchases(
    cdnow, cdnow_summary, cdnow_model
):
    s = cdnow_summary
    holdout = cdnow[(cdnow["timestamp"] >= CALIBRATION_END) & (cdnow["timestamp"] < HOLDOUT_END)]
    actual = len(holdout[["user_id", "timestamp"]].drop_duplicates())
    expected = cdnow_model.expected_purchases(39, s["frequency"], s["recency"], s["T"]).sum()
    assert actual == 1882
    # The model under-forecasts this holdout by about 12% (1,653 expected).
    assert expected == pytest.approx(1653.4, abs=1.0)
    assert expected / actual == pytest.approx(1.0, abs=0.15)


def test_fitting_in_days_only_rescales_alpha(cdnow, cdnow_model):
    s = rfm_summary(cdnow, at=CALIBRATION_END, unit_days=1.0)
    in_days = BGNBD().fit(s["frequency"], s["recency"], s["T"])
    assert in_days.alpha_ == pytest.approx(7 * cdnow_model.alpha_, rel=1e-4)
    for name in ("r_", "a_", "b_"):
        assert getattr(in_days, name) == pytest.approx(getattr(cdnow_model, name), rel=1e-4)


# --- rfm_summary ----------------------------------------------------------------------------

AT = pd.Timestamp("2024-01-29")


def tiny_orders() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": ["a", "a", "a", "a", "b", "c"],
            "timestamp": pd.to_datetime(
                [
                    "2024-01-01 09:00",
                    "2024-01-01 17:00",  # same day as the first: not a repeat purchase
                    "2024-01-08 10:00",
                    "2024-01-15 12:00",
                    "2024-01-20 08:00",
                    "2024-01-28 23:59",  # the period's last day
                ]
            ),
        }
    )


def test_the_summary_of_a_tiny_order_table_is_exact():
    summary = rfm_summary(tiny_orders(), at=AT, unit_days=1.0)
    expected = pd.DataFrame(
        {"frequency": [2.0, 0.0, 0.0], "recency": [14.0, 0.0, 0.0], "T": [27.0, 8.0, 0.0]},
        index=pd.Index(["a", "b", "c"], name="user_id"),
    )
    pd.testing.assert_frame_equal(summary, expected)


def test_the_summary_is_in_weeks_by_default():
    summary = rfm_summary(tiny_orders(), at=AT)
    assert summary.loc["a"].tolist() == pytest.approx([2.0, 2.0, 27 / 7])


def test_orders_at_or_after_the_cutoff_never_change_the_summary():
    orders = tiny_orders()
    later = pd.DataFrame(
        {
            "user_id": ["a", "b", "c", "d", "a"],
            "timestamp": pd.to_datetime(
                ["2024-01-29", "2024-01-29 00:00:01", "2024-02-10", "2024-01-29", "2025-01-01"],
                format="ISO8601",
            ),
        }
    )
    with_later = pd.concat([orders, later], ignore_index=True).sample(frac=1, random_state=0)
    pd.testing.assert_frame_equal(rfm_summary(with_later, at=AT), rfm_summary(orders, at=AT))


def test_a_cutoff_during_the_day_keeps_that_days_earlier_orders():
    orders = pd.concat(
        [tiny_orders(), pd.DataFrame({"user_id": ["a"], "timestamp": [AT + pd.Timedelta("9h")]})]
    )
    summary = rfm_summary(orders, at=AT + pd.Timedelta("12h"), unit_days=1.0)
    assert summary.loc["a"].tolist() == [3.0, 28.0, 28.0]


def test_the_summary_rejects_bad_orders():
    with pytest.raises(ValueError, match="timestamp"):
        rfm_summary(pd.DataFrame({"user_id": [1]}), at=AT)
    with pytest.raises(ValueError, match="unit_days"):
        rfm_summary(tiny_orders(), at=AT, unit_days=0)
    with pytest.raises(ValueError, match="time zone"):
        rfm_summary(tiny_orders(), at=AT.tz_localize("UTC"))


# --- hand-checkable properties --------------------------------------------------------------

CDNOW_LIKE = (0.243, 4.414, 0.793, 2.426)


def test_expected_purchases_are_zero_over_a_zero_horizon():
    fitted = model(*CDNOW_LIKE)
    values = fitted.expected_purchases(0.0, [0, 1, 5, 40], [0, 10, 30, 35], [39, 39, 39, 39])
    assert values == pytest.approx(np.zeros(4), abs=1e-12)
    assert fitted.expected_purchases_new(0.0) == 0.0


def test_expected_purchases_grow_with_the_horizon():
    fitted = model(*CDNOW_LIKE)
    horizons = np.array([0.5, 1, 5, 10, 39, 100, 1000])
    for x, t_x in [(0, 0), (1, 20), (6, 37)]:
        values = fitted.expected_purchases(horizons, x, t_x, 39)
        assert np.all(np.diff(values) > 0)
    news = [fitted.expected_purchases_new(t) for t in horizons]
    assert np.all(np.diff(news) > 0)


def test_a_recent_buyer_expects_more_than_one_whose_last_purchase_is_old():
    fitted = model(*CDNOW_LIKE)
    recent, old = fitted.expected_purchases(39, [5, 5], [37, 8], [39, 39])
    assert recent > old
    recent_alive, old_alive = fitted.probability_alive([5, 5], [37, 8], [39, 39])
    assert recent_alive > old_alive


def test_more_recent_repeat_purchases_mean_a_higher_expectation():
    fitted = model(*CDNOW_LIKE)
    values = fitted.expected_purchases(39, [0, 1, 3, 10], [0, 38, 38, 38], [39, 39, 39, 39])
    assert np.all(np.diff(values) > 0)


def test_probability_alive_is_one_without_repeat_purchases_and_within_zero_one():
    fitted = model(*CDNOW_LIKE)
    assert fitted.probability_alive([0, 0], [0, 0], [1, 39]).tolist() == [1.0, 1.0]
    rng = np.random.default_rng(0)
    big_t = rng.uniform(1, 80, 1000)
    t_x = big_t * rng.uniform(0, 1, 1000)
    x = rng.integers(1, 60, 1000)
    alive = fitted.probability_alive(x, t_x, big_t)
    assert np.all((alive > 0) & (alive <= 1))


@pytest.mark.parametrize(
    "params",
    [CDNOW_LIKE, (2.0, 10.0, 1.5, 5.0), (0.5, 1.0, 0.3, 0.4)],  # the last has a + b < 1
)
def test_the_stable_expectation_matches_the_papers_formula_for_small_x(params):
    fitted = model(*params)
    x = np.array([0, 1, 2, 3, 5, 8, 12], dtype=float)
    t_x = np.array([0, 2, 10, 30, 20, 35, 38.5])
    big_t = np.full(7, 38.86)
    for t in (1.0, 13.0, 39.0, 78.0):
        assert fitted.expected_purchases(t, x, t_x, big_t) == pytest.approx(
            paper_conditional_expectation(fitted, t, x, t_x, big_t), rel=1e-9
        )


def test_the_unconditional_expectation_matches_a_simulation():
    params = (0.25, 4.0, 0.8, 2.5)
    x, _, _ = simulate(200_000, *params, np.random.default_rng(4), (50.0, 50.0))
    assert model(*params).expected_purchases_new(50.0) == pytest.approx(x.mean(), rel=0.03)


def test_conditional_expectations_average_to_the_unconditional_forecast():
    params = (0.25, 4.0, 0.8, 2.5)
    fitted = model(*params)
    x, t_x, big_t = simulate(200_000, *params, np.random.default_rng(3), (30.0, 30.0))
    conditional = fitted.expected_purchases(20.0, x, t_x, big_t).mean()
    unconditional = fitted.expected_purchases_new(50.0) - fitted.expected_purchases_new(30.0)
    assert conditional == pytest.approx(unconditional, rel=0.03)


def test_a_equal_to_one_is_handled_as_the_limit():
    values = [
        model(0.5, 4.0, a, 3.0).expected_purchases(10.0, 3, 20, 30)[()]
        for a in (1 - 1e-4, 1.0, 1 + 1e-4)
    ]
    assert np.isfinite(values[1])
    assert values[1] == pytest.approx(0.5 * (values[0] + values[2]), rel=1e-6)


# --- fitting --------------------------------------------------------------------------------


def test_fitting_recovers_the_parameters_of_simulated_customers():
    true = {"r_": 0.5, "alpha_": 4.0, "a_": 1.5, "b_": 6.0}
    x, t_x, big_t = simulate(50_000, *true.values(), np.random.default_rng(2024), (39.0, 104.0))
    fitted = BGNBD().fit(x, t_x, big_t)
    # a and b are the least precise: with 50k customers their spread is about 3%.
    tolerance = {"r_": 0.05, "alpha_": 0.05, "a_": 0.10, "b_": 0.10}
    for name, value in true.items():
        assert getattr(fitted, name) == pytest.approx(value, rel=tolerance[name]), name
    mean_dropout = fitted.a_ / (fitted.a_ + fitted.b_)
    assert mean_dropout == pytest.approx(1.5 / 7.5, rel=0.03)


def test_duplicated_customers_give_the_same_fit_and_double_the_likelihood():
    x, t_x, big_t = simulate(5_000, 0.5, 4.0, 1.5, 6.0, np.random.default_rng(1), (39.0, 104.0))
    once = BGNBD().fit(x, t_x, big_t)
    twice = BGNBD().fit(np.tile(x, 2), np.tile(t_x, 2), np.tile(big_t, 2))
    for name in ("r_", "alpha_", "a_", "b_"):
        assert getattr(twice, name) == pytest.approx(getattr(once, name), rel=1e-4)
    assert twice.log_likelihood_ == pytest.approx(2 * once.log_likelihood_, rel=1e-9)


def test_a_penalizer_shrinks_the_parameters():
    x, t_x, big_t = simulate(5_000, 0.5, 4.0, 1.5, 6.0, np.random.default_rng(1), (39.0, 104.0))
    plain = BGNBD().fit(x, t_x, big_t)
    shrunk = BGNBD(penalizer=0.01).fit(x, t_x, big_t)
    norm = np.linalg.norm
    assert norm([shrunk.r_, shrunk.alpha_, shrunk.a_, shrunk.b_]) < norm(
        [plain.r_, plain.alpha_, plain.a_, plain.b_]
    )
    assert shrunk.log_likelihood_ < plain.log_likelihood_


def test_invalid_inputs_are_rejected_with_a_clear_message():
    fitted = model(*CDNOW_LIKE)
    with pytest.raises(ValueError, match="negative"):
        BGNBD().fit([1, -1], [1, 0], [5, 5])
    with pytest.raises(ValueError, match="recency must not exceed T"):
        BGNBD().fit([1, 2], [1, 6], [5, 5])
    with pytest.raises(ValueError, match="whole numbers"):
        fitted.probability_alive([1.5], [1], [5])
    with pytest.raises(ValueError, match="recency must be 0"):
        fitted.expected_purchases(1.0, [0], [1], [5])
    with pytest.raises(ValueError, match="finite"):
        fitted.expected_purchases(1.0, [np.nan], [1], [5])
    with pytest.raises(ValueError, match="t must not be negative"):
        fitted.expected_purchases(-1.0, [1], [1], [5])
    with pytest.raises(ValueError, match="no customer has a repeat purchase"):
        BGNBD().fit([0, 0], [0, 0], [5, 5])
    with pytest.raises(ValueError, match="penalizer"):
        BGNBD(penalizer=-1.0)


def test_an_unfitted_model_cannot_predict():
    with pytest.raises(RuntimeError, match="not fitted"):
        BGNBD().expected_purchases_new(1.0)


# --- stability ------------------------------------------------------------------------------


def test_expected_purchases_are_finite_for_extreme_inputs():
    fitted = model(*CDNOW_LIKE)
    x = np.array([0, 0, 1, 100, 150, 150, 150, 150])
    t_x = np.array([0, 0, 0.1, 1.9, 0.5, 2.0, 2.0, 500.0])
    big_t = np.array([0, 500, 500, 2.0, 2.0, 2.0, 2.0, 500.0])
    for t in (1e-6, 1.0, 39.0, 1e4, 1e8):
        values = fitted.expected_purchases(t, x, t_x, big_t)
        assert np.all(np.isfinite(values)) and np.all(values >= 0)
    assert np.isfinite(fitted.expected_purchases_new(1e8))


def test_a_heavy_recent_buyer_keeps_buying_at_their_observed_rate():
    fitted = model(*CDNOW_LIKE)
    # 150 repeat purchases in 2 weeks, the last just now: almost surely alive, with a posterior
    # mean rate of (r + x) / (alpha + T) per week, so about that many in the next short while.
    t = 0.01
    value = fitted.expected_purchases(t, 150, 2.0, 2.0)[()]
    assert value == pytest.approx((0.243 + 150) / (4.414 + 2.0) * t, rel=0.02)
    # The same history long ago means the customer has almost surely dropped out.
    assert fitted.expected_purchases(39.0, 150, 2.0, 60.0)[()] < 1e-6


def test_large_x_agrees_with_a_direct_series_for_the_hypergeometric_function():
    fitted = model(*CDNOW_LIKE)
    r, alpha, a, b = CDNOW_LIKE
    for x, big_t, t in [(100, 50.0, 39.0), (150, 2.0, 10.0), (60, 30.0, 300.0)]:
        z = t / (alpha + big_t + t)
        # 2F1(r+x, b+x; a+b+x-1; z) summed term by term in log space (it overflows otherwise).
        k = np.arange(200_000, dtype=float)
        log_ratio = (
            np.log(r + x + k) + np.log(b + x + k) - np.log(a + b + x - 1 + k) - np.log(k + 1)
        )
        log_terms = np.concatenate([[0.0], np.cumsum(log_ratio + np.log(z))[:-1]])
        log_hyp = special.logsumexp(log_terms)
        log_power = (r + x) * np.log((alpha + big_t) / (alpha + big_t + t))
        alive_expectation = (a + b + x - 1) / (a - 1) * -np.expm1(log_power + log_hyp)
        alive = fitted.probability_alive(x, big_t, big_t)[()]
        assert fitted.expected_purchases(t, x, big_t, big_t)[()] == pytest.approx(
            alive_expectation * alive, rel=1e-8
        )
