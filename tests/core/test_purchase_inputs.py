"""The purchase models' inputs are decided once from the data: on orders-only data the inputs
that need views or carts (days since the last view, view-to-cart rate, counts of views...)
are left out of every table, the importance, the saved run and the deployment predictions; a
saved run still predicts with its own input list."""

from __future__ import annotations

import pandas as pd
import pytest

from core import schema, services
from core.data.loading import load_shop
from core.ml.network import NetworkConfig
from core.purchase import build_purchase_data
from core.purchase import features as feat
from core.runs import RunStore
from core.schema import CART, PURCHASE, VIEW
from tests.frames import SHORT, canonical, make_events, small_shop_frames, write_shop

CONFIG = NetworkConfig(hidden_layers=(8,), epochs=3, batch_size=64, random_state=0)
NEED_VIEWS_OR_CARTS = {
    feat.SINCE_VIEW,
    feat.SINCE_CART,
    feat.VIEW_TO_CART,
    feat.CART_TO_PURCHASE,
    feat.VIEWED_PRICE,
    f"{feat.COUNT_PREFIX}{VIEW}",
    f"{feat.COUNT_PREFIX}{CART}",
    f"{feat.COUNT_PREFIX}{schema.FAV}",
    f"{feat.COUNT_PREFIX}{schema.RETURN}",
}
ROWS = [
    ("a", "p1", VIEW, "2024-01-01"),
    ("a", "p1", CART, "2024-01-02"),
    ("a", "p1", PURCHASE, "2024-01-03"),
    ("b", "p2", PURCHASE, "2024-01-05"),
]


def _features(rows: list[tuple]) -> pd.DataFrame:
    events = feat.prepare_events(make_events(rows, SHORT))
    return feat.user_features(
        events,
        feat.extract_orders(events),
        pd.Timestamp("2024-02-01"),
        event_types=feat.event_types_of(events),
    )


def test_orders_only_features_leave_out_what_needs_views_or_carts():
    table = _features([r for r in ROWS if r[2] == PURCHASE])
    assert not NEED_VIEWS_OR_CARTS & set(table.columns)
    assert {feat.ORDERS, feat.SINCE_ORDER, f"{feat.COUNT_PREFIX}{PURCHASE}"} <= set(table.columns)


def test_full_events_keep_the_view_and_cart_inputs():
    table = _features(ROWS)
    assert {feat.SINCE_VIEW, feat.SINCE_CART, feat.VIEW_TO_CART, feat.CART_TO_PURCHASE} <= set(
        table.columns
    )
    assert {f"{feat.COUNT_PREFIX}{VIEW}", f"{feat.COUNT_PREFIX}{CART}"} <= set(table.columns)
    # Types the data never has (favourites, returns) are still left out.
    assert f"{feat.COUNT_PREFIX}{schema.FAV}" not in table.columns


def test_views_without_carts_keep_view_inputs_only():
    table = _features([r for r in ROWS if r[2] != CART])
    assert feat.SINCE_VIEW in table.columns
    assert not {feat.SINCE_CART, feat.VIEW_TO_CART, feat.CART_TO_PURCHASE} & set(table.columns)


@pytest.fixture(scope="module")
def orders_only_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    events, products = small_shop_frames()
    return events[events[schema.EVENT_TYPE] == PURCHASE].reset_index(drop=True), products


@pytest.fixture(scope="module")
def orders_only_shop(orders_only_frames, tmp_path_factory):
    return load_shop(*write_shop(tmp_path_factory.mktemp("orders"), *orders_only_frames))


def test_every_table_of_orders_only_data_has_the_same_inputs(orders_only_frames):
    data = build_purchase_data(*canonical(*orders_only_frames), horizon_days=30)
    assert not NEED_VIEWS_OR_CARTS & set(data.feature_names)
    assert set(NEED_VIEWS_OR_CARTS) <= set(data.left_out)
    for table in (data.train, data.evaluation, data.deployment):
        assert not NEED_VIEWS_OR_CARTS & set(table.columns)
        assert set(data.feature_names) <= set(table.columns)


def test_full_events_build_the_view_and_cart_inputs():
    data = build_purchase_data(*canonical(*small_shop_frames()), horizon_days=30)
    assert {feat.SINCE_VIEW, feat.VIEW_TO_CART, feat.VIEWED_PRICE} <= set(data.feature_names)
    assert data.left_out == ()


def test_training_importance_run_and_predictions_agree_on_orders_only_data(
    orders_only_shop, tmp_path
):
    store = RunStore(tmp_path / "runs")
    settings = services.PurchaseSettings(CONFIG, 30)
    result = services.train_purchase(orders_only_shop, settings, store)
    names = result.data.feature_names
    assert not NEED_VIEWS_OR_CARTS & set(names)
    assert set(result.evaluation.importance["feature"]) == set(names)
    assert list(result.models.regressor.feature_names_in_) == list(names)
    assert list(result.models.classifier.feature_names_in_) == list(names)
    loaded = store.load(result.run_id)
    assert set(loaded.manifest.details.importance["feature"]) == set(names)
    reopened = services.open_purchase_run(loaded, orders_only_shop)
    assert reopened.data.feature_names == names
    pd.testing.assert_frame_equal(reopened.next_orders, result.next_orders)


def test_a_run_trained_on_every_input_still_predicts_with_its_own_list(orders_only_shop, tmp_path):
    """A run saved before inputs the data cannot have were left out keeps them."""
    settings = services.PurchaseSettings(CONFIG, 30)
    current = services.prepare_purchase(orders_only_shop, settings)
    old_inputs = (*current.feature_names, *sorted(NEED_VIEWS_OR_CARTS))
    data = services.prepare_purchase(orders_only_shop, settings, inputs=old_inputs)
    assert data.feature_names == old_inputs
    store = RunStore(tmp_path / "runs")
    result = services.train_purchase(orders_only_shop, settings, store, data=data)
    assert list(result.models.regressor.feature_names_in_) == list(old_inputs)
    reopened = services.open_purchase_run(store.load(result.run_id), orders_only_shop, data=current)
    assert reopened.data.feature_names == old_inputs
    pd.testing.assert_frame_equal(reopened.next_orders, result.next_orders)
