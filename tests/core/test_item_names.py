"""Without a product table, products are named from the events file (UCI's Description, or any
name column): one name per item, its most frequent, shown wherever the item appears."""

from __future__ import annotations

import pandas as pd

from core import overview as an
from core import schema
from core.data.loading import read_events
from core.data.profile import item_names, profile_events
from core.recommend import explain, fit_recommender, recommend_everyone
from core.schema import PURCHASE, VIEW
from tests.core.test_recommend import CONFIG
from tests.frames import SHORT, make_events
from tests.reading import column, write

UCI = (
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,UK\n"
    "536366,85123A,?,1,12/1/2010 9:00,2.55,17851,UK\n"
    "536367,85123A,WHITE HANGING HEART T-LIGHT HOLDER,2,12/2/2010 8:26,2.55,17852,UK\n"
    "536368,71053,WHITE METAL LANTERN,6,12/2/2010 9:26,3.39,17850,UK\n"
    "536369,71053,METAL LANTERN WHITE,6,12/13/2010 8:26,3.39,17852,UK\n"
    "536370,22728,,24,12/13/2010 8:45,3.75,12583,France\n"
)


def test_an_item_takes_its_most_frequent_name_and_a_tie_its_first(tmp_path):
    result = read_events(write(tmp_path, "Online Retail.csv", UCI))

    assert result.mapping[schema.NAME] == "Description"
    assert column(result, schema.NAME) == [
        "WHITE HANGING HEART T-LIGHT HOLDER", "WHITE HANGING HEART T-LIGHT HOLDER",
        "WHITE HANGING HEART T-LIGHT HOLDER", "WHITE METAL LANTERN", "WHITE METAL LANTERN",
        None,  # 22728 is never named: it stays unnamed (shown by its code)
    ]  # fmt: skip
    assert result.rows_kept == 6  # a missing name rejects no row


def test_the_profile_and_the_overview_name_items_from_the_events(tmp_path):
    events = read_events(write(tmp_path, "Online Retail.csv", UCI)).frame

    names = item_names(events, None)
    assert names is not None and names.to_dict() == {
        "85123A": "WHITE HANGING HEART T-LIGHT HOLDER",
        "71053": "WHITE METAL LANTERN",
    }
    top = profile_events(events, None).top_items
    assert top is not None
    assert dict(zip(top[schema.ITEM_ID], top[schema.NAME], strict=True))["71053"] == (
        "WHITE METAL LANTERN"
    )
    ranked = an.top_items(events, by="orders")
    assert ranked[schema.NAME].tolist()[:2] == [
        "WHITE HANGING HEART T-LIGHT HOLDER", "WHITE METAL LANTERN",
    ]  # fmt: skip


def test_a_product_tables_name_comes_before_the_events_name():
    events = make_events(
        [("u1", "i1", VIEW, "2026-05-01 10:00", "from events")], (*SHORT, schema.NAME)
    )
    products = pd.DataFrame({schema.ITEM_ID: ["i1"], schema.NAME: ["from the table"]})

    assert item_names(events, products).to_dict() == {"i1": "from the table"}
    assert an.top_items(events, products)[schema.NAME].tolist() == ["from the table"]


def test_recommendations_their_reasons_and_the_export_name_items_from_the_events():
    cutoff = pd.Timestamp("2026-06-01")
    rows = [
        ("u1", "i1", PURCHASE, "2026-05-01 12:00", "Kettle"),
        ("u1", "i2", PURCHASE, "2026-05-01 12:05", "Teapot"),
        ("u2", "i1", PURCHASE, "2026-05-03 12:00", "Kettle"),
        ("u2", "i2", PURCHASE, "2026-05-03 12:05", "Teapot"),
        ("u3", "i1", PURCHASE, "2026-05-05 12:00", "Kettle"),
        ("u3", "i3", VIEW, "2026-05-06 12:00", "Mug"),
        ("u4", "i3", PURCHASE, "2026-05-07 12:00", "Mug"),
        ("u1", "i3", PURCHASE, "2026-06-02 12:00", "Mug"),
        ("u3", "i2", PURCHASE, "2026-06-03 12:00", "Teapot"),
    ]
    events = make_events(rows, (*SHORT, schema.NAME))
    recommender = fit_recommender(events, None, cutoff=cutoff, horizon_days=10, config=CONFIG)

    inter = recommender.interactions
    assert dict(zip(inter.item_ids, inter.item_names, strict=True)) == {
        "i1": "Kettle", "i2": "Teapot", "i3": "Mug",
    }  # fmt: skip
    everyone = recommend_everyone(recommender, k=2)
    names = {"i1": "Kettle", "i2": "Teapot", "i3": "Mug"}
    assert (everyone[schema.NAME] == everyone[schema.ITEM_ID].astype("str").map(names)).all()
    # u3 bought the kettle, bought together with the teapot by u1 and u2: named, not coded.
    u3, teapot = inter.user_ids.get_loc("u3"), inter.item_ids.get_loc("i2")
    reason = explain(recommender, pd.DataFrame({"user": [u3], "item": [teapot]})).iloc[0]
    assert reason.startswith("often chosen together with Kettle"), reason


def test_a_users_activity_counts_every_event_purchase_line_and_order():
    from core.recommend import user_activity

    rows = [("u1", f"i{n % 7}", VIEW, f"2026-05-01 {n // 60:02d}:{n % 60:02d}") for n in range(300)]
    rows += [
        ("u1", "i1", PURCHASE, "2026-05-02 10:00", "o1"),
        ("u1", "i2", PURCHASE, "2026-05-02 10:00", "o1"),
        ("u1", "i3", PURCHASE, "2026-05-03 10:00", "o2"),
        ("u1", "i3", PURCHASE, "2026-05-04 10:00", None),  # no order id: one order that day
        ("u2", "i3", PURCHASE, "2026-05-04 10:00", "o3"),
        ("u1", "i4", PURCHASE, "2026-06-02 10:00", "o4"),  # after the cutoff
    ]
    rows = [(*r, None) if len(r) == 4 else r for r in rows]
    events = make_events(rows, (*SHORT, schema.ORDER_ID))

    done = user_activity(events, "u1", before=pd.Timestamp("2026-06-01"))
    assert (done.events, done.purchase_lines, done.orders) == (304, 4, 3)
    assert user_activity(events, "u1").orders == 4
