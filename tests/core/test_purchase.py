"""Tests for purchase prediction on a small synthetic shop: the cutoff, the training windows
and their labels (no leakage past the cutoff or a window's start), training, evaluation, the
baselines and deployment predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.inspection import permutation_importance

from core.errors import CutoffError
from core.ml.network import NetworkConfig
from core.ml.timesplit import data_end_of, default_cutoff
from core.purchase import (
    ACTUAL_BUYER,
    ACTUAL_ORDERS,
    BGNBD_EXPECTED,
    BGNBD_SCALE,
    HORIZON,
    MODEL_NAMES,
    PREDICTED,
    PROBABILITY,
    WINDOW_START,
    PurchaseTraining,
    build_purchase_data,
    evaluate_purchase_models,
    predict_next_orders,
    train_purchase_models,
)
from core.purchase import features as feat
from core.purchase.windows import OrderScale, describe_bgnbd, orders_per_purchase_day
from core.schema import (
    EVENT_TYPE,
    ITEM_ID,
    ORDER_ID,
    PURCHASE,
    QUANTITY,
    SESSION_ID,
    TIMESTAMP,
    USER_ID,
    VIEW,
)
from tests.frames import canonical, small_shop_frames

H = 30
DAY = pd.Timedelta(days=1)
# The sample shop runs from 2026-05-01 07:00 to 2026-10-31 18:15.
FIRST_DAY = pd.Timestamp("2026-05-01")
DATA_END = pd.Timestamp("2026-11-01")
CUTOFF = pd.Timestamp("2026-10-02")  # DATA_END - 30 days
STRIDE = pd.Timedelta(days=4)  # ceil(30 / 8)
CONFIG = NetworkConfig(hidden_layers=(8,), epochs=5, batch_size=64, random_state=0)
LABELS = [ACTUAL_ORDERS, ACTUAL_BUYER, WINDOW_START]


def own_orders(raw: pd.DataFrame) -> pd.DataFrame:
    """Orders counted independently of core.features: distinct (user, order id), first line."""
    purchases = raw[raw[EVENT_TYPE] == PURCHASE]
    assert purchases[ORDER_ID].notna().all()
    first = purchases.groupby([USER_ID, ORDER_ID], observed=True)[TIMESTAMP].min()
    return first.reset_index()[[USER_ID, TIMESTAMP]]


def recount(
    orders: pd.DataFrame, users: pd.Index, starts: pd.Series, days: pd.Series
) -> np.ndarray:
    """Orders of each (user, window start, days) row in [start, start + days)."""
    start = np.asarray(starts, dtype="datetime64[ns]")
    length = pd.to_timedelta(np.asarray(days, dtype=float), unit="D").to_numpy()
    rows = pd.DataFrame(
        {
            USER_ID: np.asarray(users, dtype=object),
            "start": start,
            "end": start + length,
            "row": np.arange(len(users)),
        }
    )
    per_user = orders.assign(**{USER_ID: orders[USER_ID].astype(object)})
    merged = rows.merge(per_user, on=USER_ID, how="left")
    inside = (merged[TIMESTAMP] >= merged["start"]) & (merged[TIMESTAMP] < merged["end"])
    return inside.groupby(merged["row"]).sum().reindex(np.arange(len(users))).to_numpy()


def extra_purchases(users: list[str], stamps: list[pd.Timestamp], tag: str) -> pd.DataFrame:
    """A new one-line order (new order id) for each user at each time."""
    rows = [
        {
            USER_ID: user,
            ITEM_ID: "p0001",
            EVENT_TYPE: PURCHASE,
            TIMESTAMP: stamp,
            QUANTITY: 1,
            "price": 10.0,
            ORDER_ID: f"{tag}-{user}-{i}",
            SESSION_ID: f"{tag}-{user}-{i}",
        }
        for user in users
        for i, stamp in enumerate(stamps)
    ]
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def raw() -> tuple[pd.DataFrame, pd.DataFrame]:
    return small_shop_frames()


@pytest.fixture(scope="module")
def shop(raw) -> tuple[pd.DataFrame, pd.DataFrame]:
    return canonical(*raw)


@pytest.fixture(scope="module")
def data(shop):
    return build_purchase_data(*shop, horizon_days=H)


@pytest.fixture(scope="module")
def models(data):
    return train_purchase_models(data, CONFIG)


@pytest.fixture(scope="module")
def evaluation(models, data):
    return evaluate_purchase_models(models, data, importance_rows=300)


# --- cutoff -------------------------------------------------------------------------------


def test_the_data_ends_at_midnight_after_the_last_event(shop):
    assert data_end_of(shop[0]) == DATA_END


def test_data_end_of_a_last_event_at_midnight_is_the_next_midnight():
    events = pd.DataFrame({TIMESTAMP: pd.to_datetime(["2024-01-05 08:00", "2024-01-31 00:00"])})
    assert data_end_of(events) == pd.Timestamp("2024-02-01")


def test_the_default_cutoff_is_the_end_of_data_minus_the_horizon(shop, data):
    assert default_cutoff(shop[0], H) == CUTOFF
    assert default_cutoff(shop[0], 7) == pd.Timestamp("2026-10-25")
    assert data.cutoff == CUTOFF
    assert data.data_end == DATA_END
    assert data.horizon_days == H


def test_a_cutoff_one_day_too_late_is_refused_with_one_line(shop):
    with pytest.raises(CutoffError, match="leaves less than 30 days of data after it") as raised:
        build_purchase_data(*shop, cutoff=CUTOFF + DAY, horizon_days=H)
    message = str(raised.value)
    assert "\n" not in message
    assert "2026-10-31" in message  # the last day of data
    assert "on or before 2026-10-02" in message


def test_a_cutoff_with_too_little_history_is_refused_with_one_line(shop):
    with pytest.raises(CutoffError, match="less than 14 days of history") as raised:
        build_purchase_data(*shop, cutoff=FIRST_DAY + 13 * DAY, horizon_days=H)
    assert "\n" not in str(raised.value)
    assert "on or after 2026-05-15" in str(raised.value)


def test_a_cutoff_without_room_for_a_training_window_is_refused(shop):
    with pytest.raises(CutoffError, match="no room for a training window") as raised:
        build_purchase_data(*shop, cutoff=FIRST_DAY + 14 * DAY + STRIDE - DAY, horizon_days=H)
    assert "\n" not in str(raised.value)


def test_the_earliest_usable_cutoff_has_one_window_after_two_weeks_of_history(shop):
    data = build_purchase_data(*shop, cutoff=FIRST_DAY + 14 * DAY + STRIDE, horizon_days=H)
    assert data.windows == ((pd.Timestamp("2026-05-15"), 4),)


@pytest.mark.parametrize("horizon", [0, -3])
def test_a_horizon_below_one_day_is_refused(shop, horizon):
    with pytest.raises(CutoffError, match="at least 1 day"):
        build_purchase_data(*shop, horizon_days=horizon)


def test_data_without_purchases_is_refused(shop):
    events = shop[0][shop[0][EVENT_TYPE] == VIEW]
    with pytest.raises(CutoffError, match="no purchases"):
        build_purchase_data(events, shop[1], horizon_days=H)


# --- training windows and labels ----------------------------------------------------------


def test_every_training_window_ends_on_or_before_the_cutoff(data):
    assert len(data.windows) == 16
    for start, days in data.windows:
        assert start + days * DAY <= data.cutoff
        assert days == min(H, (data.cutoff - start) // DAY)
    starts = [start for start, _ in data.windows]
    assert starts[0] == CUTOFF - STRIDE
    assert all(a - b == STRIDE for a, b in zip(starts, starts[1:], strict=False))
    ends = data.train[WINDOW_START] + pd.to_timedelta(data.train[HORIZON], unit="D")
    assert (ends <= data.cutoff).all()
    assert set(zip(data.train[WINDOW_START], data.train[HORIZON], strict=True)) == {
        (start, float(days)) for start, days in data.windows
    }


def test_training_labels_are_the_orders_in_each_window(raw, data):
    train = data.train
    expected = recount(own_orders(raw[0]), train.index, train[WINDOW_START], train[HORIZON])
    assert train[ACTUAL_ORDERS].to_numpy() == pytest.approx(expected)
    assert (train[ACTUAL_BUYER] == (expected > 0)).all()
    assert train[ACTUAL_ORDERS].sum() > 0


def test_training_is_unchanged_by_anything_at_or_after_the_cutoff(raw, data):
    events, products = raw
    users = sorted(data.evaluation.index[:60])
    extra = extra_purchases(users, [CUTOFF, CUTOFF + 5.5 * DAY], "future")
    dropped = (events[TIMESTAMP] >= CUTOFF) & (events[TIMESTAMP] < CUTOFF + 10 * DAY)
    dropped &= events[EVENT_TYPE] == VIEW
    changed = build_purchase_data(
        *canonical(pd.concat([events[~dropped], extra], ignore_index=True), products),
        cutoff=data.cutoff,
        horizon_days=H,
    )
    assert changed.windows == data.windows
    pd.testing.assert_frame_equal(changed.train, data.train)
    names = list(data.feature_names)
    pd.testing.assert_frame_equal(changed.evaluation[names], data.evaluation[names])
    more = changed.evaluation[ACTUAL_ORDERS] - data.evaluation[ACTUAL_ORDERS]
    assert (more.loc[users] == 2).all()


def test_evaluation_labels_are_the_orders_in_the_horizon_after_the_cutoff(raw, shop, data):
    evaluation = data.evaluation
    orders = feat.extract_orders(feat.prepare_events(shop[0]))
    counted = feat.count_orders(orders, CUTOFF, CUTOFF + H * DAY)
    expected = counted.reindex(evaluation.index).fillna(0).to_numpy()
    assert evaluation[ACTUAL_ORDERS].to_numpy() == pytest.approx(expected)
    own = recount(
        own_orders(raw[0]),
        evaluation.index,
        pd.Series(CUTOFF, index=evaluation.index),
        pd.Series(float(H), index=evaluation.index),
    )
    assert evaluation[ACTUAL_ORDERS].to_numpy() == pytest.approx(own)
    assert (evaluation[HORIZON] == H).all()
    assert (evaluation[WINDOW_START] == CUTOFF).all()


def test_the_users_scored_are_exactly_those_with_an_event_before_the_cutoff(raw, data):
    events = raw[0]
    before = set(events.loc[events[TIMESTAMP] < CUTOFF, USER_ID])
    assert set(data.evaluation.index) == before
    assert data.evaluation.index.is_unique
    assert set(data.deployment.index) == set(events[USER_ID])


def test_the_bgnbd_feature_of_a_window_only_uses_orders_before_its_start(raw, data):
    events, products = raw
    first_start = data.windows[-1][0]  # the earliest window
    second_start = data.windows[-2][0]
    users = sorted(data.train.index[data.train[WINDOW_START] == first_start][:80])
    extra = extra_purchases(users, [first_start, first_start + 1.5 * DAY], "later")
    changed = build_purchase_data(
        *canonical(pd.concat([events, extra], ignore_index=True), products),
        cutoff=data.cutoff,
        horizon_days=H,
    )
    names = list(data.feature_names)

    def window(table: pd.DataFrame, start: pd.Timestamp) -> pd.DataFrame:
        return table[table[WINDOW_START] == start]

    before, after = window(data.train, first_start), window(changed.train, first_start)
    pd.testing.assert_frame_equal(after[names], before[names])
    assert (after.loc[users, ACTUAL_ORDERS] - before.loc[users, ACTUAL_ORDERS] == 2).all()
    # The next window starts after the new orders: its BG/NBD expectation sees them.
    moved = window(changed.train, second_start)[BGNBD_EXPECTED].loc[users]
    assert (moved != window(data.train, second_start)[BGNBD_EXPECTED].loc[users]).any()


# --- BG/NBD in orders ----------------------------------------------------------------------


def test_orders_per_purchase_day_is_each_customers_own_with_three_days_else_pooled():
    # u1 orders twice on 1 Mar, once on 5 Mar and three times on 9 Mar: 6 orders on 3 days.
    # u2 orders twice on 2 Mar and once on 3 Mar (2 days), u3 once (1 day); u2's order on
    # 10 Mar is after the date. Pooled: 10 orders / 6 purchase days.
    stamps = {
        "u1": ["03-01 09:00", "03-01 17:00", "03-05 10:00", "03-09 08:00", "03-09 12:00",
               "03-09 23:59"],
        "u2": ["03-02 10:00", "03-02 11:00", "03-03 10:00", "03-10 10:00"],
        "u3": ["03-04 10:00"],
    }  # fmt: skip
    orders = pd.DataFrame(
        [(user, pd.Timestamp(f"2026-{when}")) for user, times in stamps.items() for when in times],
        columns=[USER_ID, TIMESTAMP],
    ).sort_values(TIMESTAMP, ignore_index=True)
    factor, scale = orders_per_purchase_day(orders, pd.Timestamp("2026-03-10"))
    assert factor.to_dict() == pytest.approx({"u1": 2.0, "u2": 10 / 6, "u3": 10 / 6})
    assert scale == OrderScale(pooled=pytest.approx(10 / 6), own_customers=1, pooled_customers=2)
    assert "of the 1 customers who bought on at least 3 days" in scale.describe()
    assert "1.667 orders per purchase day (pooled over all customers) for the other 2" in (
        scale.describe()
    )
    # Without same-day repeats every factor is 1.
    single = orders[
        ~orders.assign(day=orders[TIMESTAMP].dt.floor("D")).duplicated([USER_ID, "day"])
    ]
    assert set(orders_per_purchase_day(single, pd.Timestamp("2026-03-10"))[0]) == {1.0}
    empty, none = orders_per_purchase_day(orders, pd.Timestamp("2026-03-01"))
    assert empty.empty and none == OrderScale()


def test_bgnbd_is_scored_in_orders_when_customers_order_several_times_a_day(raw):
    """Forty users also place two orders a minute apart on twelve days before the cutoff:
    their own orders per purchase day scale BG/NBD's expectation for them."""
    events, products = raw
    repeaters = sorted(events.loc[events[TIMESTAMP] < CUTOFF, USER_ID].unique())[:40]
    days = [FIRST_DAY + (20 + 9 * n) * DAY + 10 * pd.Timedelta(hours=1) for n in range(12)]
    extra = extra_purchases(
        repeaters, [d + pd.Timedelta(minutes=m) for d in days for m in (0, 1)], "same-day"
    )
    base = build_purchase_data(*canonical(events, products), cutoff=CUTOFF, horizon_days=H)
    data = build_purchase_data(
        *canonical(pd.concat([events, extra], ignore_index=True), products),
        cutoff=CUTOFF,
        horizon_days=H,
    )
    orders = own_orders(pd.concat([events, extra], ignore_index=True))
    before = orders[orders[TIMESTAMP] < CUTOFF]
    per_user = before.groupby(USER_ID)[TIMESTAMP]
    ratio = per_user.size() / per_user.apply(lambda t: t.dt.floor("D").nunique())
    pooled = (
        len(before)
        / before.groupby(USER_ID)[TIMESTAMP].apply(lambda t: t.dt.floor("D").nunique()).sum()
    )
    assert data.order_scale.pooled == pytest.approx(pooled)
    table = data.evaluation
    own = table.loc[repeaters, BGNBD_SCALE]
    assert own.to_numpy() == pytest.approx(ratio.loc[repeaters].to_numpy())
    assert (own > 1.5).all()  # 24 orders on those 12 days, plus their other days
    assert (table[BGNBD_SCALE] >= 1).all()
    assert BGNBD_SCALE not in data.feature_names  # no network input changes
    assert data.feature_names == base.feature_names
    sentence = describe_bgnbd(data)
    days_total = table[BGNBD_EXPECTED].sum()
    orders_total = (table[BGNBD_EXPECTED] * table[BGNBD_SCALE]).sum()
    assert f"{days_total:,.1f} purchase days" in sentence
    assert f"{orders_total:,.1f} orders" in sentence
    assert orders_total > days_total


# --- training and evaluation --------------------------------------------------------------


def test_training_runs_every_epoch_and_evaluation_scores_every_model(models, evaluation, data):
    assert models.epochs_run == (5, 5)
    assert not models.stopped
    assert all(1 <= epoch <= 5 for epoch in models.best_epochs)
    assert len(models.regressor_curves) == len(models.classifier_curves) == 5
    assert list(evaluation.scores.index) == list(MODEL_NAMES)
    assert np.isfinite(evaluation.scores["mse"]).all()
    assert evaluation.scores["total_actual"].nunique() == 1
    assert len(evaluation.users) == len(data.evaluation)
    assert sorted(evaluation.importance["feature"]) == sorted(data.feature_names)


def test_the_zero_baseline_predicts_nothing(evaluation):
    users = evaluation.users
    assert (users["zero_orders"] == 0).all()
    assert (users["zero_probability"] == 0).all()
    actual = users[ACTUAL_ORDERS].to_numpy()
    assert evaluation.scores.loc["zero", "mse"] == pytest.approx(np.mean(actual**2))
    assert evaluation.scores.loc["zero", "total_predicted"] == 0


def test_the_mean_baseline_predicts_the_training_rate_times_the_horizon(models, evaluation, data):
    train = data.train
    rate = train[ACTUAL_ORDERS].sum() / train[HORIZON].sum()
    buy_rate = train.loc[train[HORIZON] == H, ACTUAL_BUYER].mean()
    assert models.mean_rate_per_day == pytest.approx(rate)
    assert models.base_buy_rate == pytest.approx(buy_rate)
    assert evaluation.users["mean_orders"].to_numpy() == pytest.approx(
        np.full(len(data.evaluation), rate * H)
    )
    assert evaluation.users["mean_probability"].to_numpy() == pytest.approx(
        np.full(len(data.evaluation), buy_rate)
    )


def test_the_past_rate_and_bgnbd_baselines_follow_their_definitions(evaluation, data):
    table, users = data.evaluation, evaluation.users
    past = table[feat.ORDERS] / table[feat.TENURE].clip(lower=1.0) * H
    assert users["past_rate_orders"].to_numpy() == pytest.approx(past.to_numpy())
    # Orders: expected purchase days x orders per purchase day; buying at all: at least one day.
    scaled = table[BGNBD_EXPECTED].to_numpy() * table[BGNBD_SCALE].to_numpy()
    assert users["bgnbd_orders"].to_numpy() == pytest.approx(scaled)
    assert users[BGNBD_SCALE].to_numpy() == pytest.approx(table[BGNBD_SCALE].to_numpy())
    assert users["bgnbd_probability"].to_numpy() == pytest.approx(
        1 - np.exp(-table[BGNBD_EXPECTED].to_numpy())
    )
    actual = users[ACTUAL_ORDERS].to_numpy()
    assert evaluation.scores.loc["bgnbd", "mse"] == pytest.approx(np.mean((actual - scaled) ** 2))


def test_every_prediction_is_a_non_negative_count_and_a_probability(evaluation):
    users = evaluation.users
    for name in MODEL_NAMES:
        assert (users[f"{name}_orders"] >= 0).all(), name
        assert users[f"{name}_probability"].between(0, 1).all(), name


def test_predict_next_orders_gives_one_row_per_user(raw, models, data):
    predicted = predict_next_orders(models, data)
    assert predicted.index.is_unique
    assert set(predicted.index) == set(raw[0][USER_ID])
    assert (predicted[PREDICTED] >= 0).all()
    assert predicted[PROBABILITY].between(0, 1).all()
    assert predicted[PREDICTED].is_monotonic_decreasing


def test_a_training_stopped_after_epoch_two_can_still_finish(data):
    training = PurchaseTraining(data, CONFIG)
    seen = []

    def two_epochs(progress: object) -> bool:
        seen.append(progress.epoch)
        return progress.epoch < 2

    training.run(two_epochs)
    assert seen == [1, 2]
    assert training.can_finish
    models = training.finish()
    assert models.stopped
    assert models.epochs_run == (2, 2)
    assert len(models.regressor_curves) == len(models.classifier_curves) == 2
    predicted = predict_next_orders(models, data)
    assert (predicted[PREDICTED] >= 0).all()


class _MlpOrders(BaseEstimator, RegressorMixin):
    """The MLP's order prediction as scored in ``evaluation.scores``: BG/NBD + correction."""

    def __init__(self, regressor: object = None) -> None:
        self.regressor = regressor

    def fit(self, x: pd.DataFrame, y: np.ndarray) -> _MlpOrders:
        return self

    def predict(self, x: pd.DataFrame) -> np.ndarray:
        return np.clip(x[BGNBD_EXPECTED].to_numpy() + self.regressor.predict(x), 0, None)


def test_importance_is_the_increase_in_the_mlps_mse(models, evaluation, data):
    table = data.evaluation
    sample = table.sample(min(300, len(table)), random_state=0)
    expected = permutation_importance(
        _MlpOrders(models.regressor),
        sample[list(data.feature_names)],
        sample[ACTUAL_ORDERS],
        scoring="neg_mean_squared_error",
        n_repeats=5,
        random_state=0,
    )
    got = evaluation.importance.set_index("feature")["mse_increase"]
    assert got.loc[list(data.feature_names)].to_numpy() == pytest.approx(expected.importances_mean)


def test_a_bgnbd_fit_that_fails_is_a_visible_warning_not_a_silent_zero(shop, monkeypatch):
    events, products = shop

    def fail(self, *args, **kwargs):
        raise RuntimeError("did not converge")

    monkeypatch.setattr("core.purchase.windows.BGNBD.fit", fail)
    data = build_purchase_data(events, products, cutoff=CUTOFF, horizon_days=30)
    [warning] = data.warnings
    assert warning.startswith(f"BG/NBD could not be fitted at the cutoff {CUTOFF:%Y-%m-%d}")
    assert "the fit failed: did not converge" in warning and "\n" not in warning
    assert (data.evaluation[BGNBD_EXPECTED] == 0).all()


def test_without_any_repeat_purchase_bgnbd_is_not_fitted_and_says_why(shop):
    events, products = shop
    first = events[events[EVENT_TYPE] == PURCHASE].drop_duplicates(USER_ID)
    once = pd.concat([events[events[EVENT_TYPE] != PURCHASE], first]).sort_values(TIMESTAMP)
    data = build_purchase_data(once, products, cutoff=CUTOFF, horizon_days=30)
    assert any("no customer bought twice before" in w for w in data.warnings)


def test_a_bgnbd_fitted_everywhere_gives_no_warning(shop):
    events, products = shop
    assert build_purchase_data(events, products, horizon_days=30).warnings == ()
