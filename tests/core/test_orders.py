"""What counts as an order is defined once (``core.data.orders``), and every figure and model
that counts orders agrees on a hand-checked shop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import overview as an
from core import schema
from core.data.loading import load_shop
from core.data.orders import order_keys
from core.purchase import features as feat

EVENTS = (
    "user_id,item_id,event_type,timestamp,order_id,price\n"
    # u1: order A (two lines) and order B on one day: 2 orders
    "u1,i1,purchase,2024-03-01 10:00:00,A,1.0\n"
    "u1,i2,purchase,2024-03-01 11:00:00,A,2.0\n"
    "u1,i3,purchase,2024-03-01 12:00:00,B,4.0\n"
    # u1: two lines without an order id on one day: 1 order
    "u1,i1,purchase,2024-03-02 09:00:00,,1.0\n"
    "u1,i2,purchase,2024-03-02 18:00:00,,2.0\n"
    # u1: order C over midnight: 1 order
    "u1,i3,purchase,2024-03-03 23:30:00,C,4.0\n"
    "u1,i1,purchase,2024-03-04 00:30:00,C,1.0\n"
    # u2: a line without an id, and order id A (another user's A is another order): 2 orders
    "u2,i1,purchase,2024-03-01 10:00:00,,1.0\n"
    "u2,i2,purchase,2024-03-01 11:00:00,A,2.0\n"
    "u2,i2,view,2024-03-05 11:00:00,,2.0\n"
    # u3 only views: no order
    "u3,i3,view,2024-03-05 12:00:00,,4.0\n"
)
EXPECTED = {"u1": 4, "u2": 2}
START, END = pd.Timestamp("2024-03-01"), pd.Timestamp("2024-03-06")


@pytest.fixture(scope="module")
def events(tmp_path_factory) -> pd.DataFrame:
    path = tmp_path_factory.mktemp("orders") / "events.csv"
    path.write_text(EVENTS, encoding="utf-8")
    return load_shop(path).events.frame


def test_order_keys_group_by_order_id_else_by_day():
    day = 86_400 * 10**9
    users = np.array([0, 0, 0, 0, 1, 1])
    times = np.array([0, 1, 2, day, 0, day + 5])
    codes = np.array([0, 0, -1, -1, -1, -1])
    keys = order_keys(users, times, codes)
    assert keys[0] == keys[1]  # one order id
    assert len({keys[1], keys[2], keys[3]}) == 3  # an id, and two days without one
    assert keys[4] != keys[5] and keys[4] not in keys[:4]  # another user, two days
    assert list(order_keys(users, times)) == list(order_keys(users, times, None))
    assert order_keys(np.zeros(0), np.zeros(0)).tolist() == []


def test_purchase_features_count_the_orders_by_hand(events):
    orders = feat.extract_orders(events)
    counts = orders.groupby(orders[schema.USER_ID].astype("str"), observed=True).size()
    assert counts.to_dict() == EXPECTED
    first_of_c = orders[orders[schema.TIMESTAMP] == pd.Timestamp("2024-03-03 23:30")]
    assert len(first_of_c) == 1 and first_of_c[feat.ORDER_VALUE].iloc[0] == pytest.approx(5.0)


def test_every_overview_figure_counts_the_same_orders(events):
    kpis = an.compute_kpis(events, start=START, end=END)
    assert kpis.value(an.ORDERS) == sum(EXPECTED.values())
    users = an.users_in(events, None, start=START, end=END).set_index(schema.USER_ID)
    assert users.loc[list(EXPECTED), an.ORDERS].to_dict() == EXPECTED
    trends = an.event_trends(events, freq="D", start=START, end=END)
    assert trends[an.ORDERS].sum() == sum(EXPECTED.values())
    rfm = an.rfm_segments(events, at=END)
    frequency = rfm.set_index(schema.USER_ID)[an.FREQUENCY]
    assert frequency.to_dict() == EXPECTED
