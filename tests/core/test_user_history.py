"""recommend.user_history: one user's events, newest first, with the product table joined."""

import pandas as pd
import pytest

from core import recommend, schema


@pytest.fixture
def events() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            schema.USER_ID: ["u1", "u1", "u2", "u1", "u1"],
            schema.ITEM_ID: ["i1", "i2", "i1", "i3", "i1"],
            schema.EVENT_TYPE: ["view", "cart", "view", "purchase", "purchase"],
            schema.TIMESTAMP: pd.to_datetime(
                [
                    "2024-03-01 10:00",
                    "2024-03-02 11:00",
                    "2024-03-02 12:00",
                    "2024-03-05 09:00",
                    "2024-03-09 08:00",
                ]
            ),
            schema.PRICE: [None, 7.5, None, None, 4.0],
            schema.CATEGORY: [None, None, None, "from event", None],
        }
    )
    for column in (schema.USER_ID, schema.ITEM_ID, schema.EVENT_TYPE):
        frame[column] = frame[column].astype("category")
    return frame


@pytest.fixture
def products() -> pd.DataFrame:
    return pd.DataFrame(
        {
            schema.ITEM_ID: ["i1", "i2"],
            schema.NAME: ["Mug", "Kettle"],
            schema.CATEGORY: ["Kitchen", "Kitchen"],
            schema.PRICE: [5.0, 30.0],
        }
    )


def test_history_is_newest_first_with_names_categories_and_prices(events, products):
    history = recommend.user_history(events, products, "u1")
    assert list(history.columns) == list(recommend.HISTORY_COLUMNS)
    assert list(history[schema.TIMESTAMP]) == list(
        pd.to_datetime(
            ["2024-03-09 08:00", "2024-03-05 09:00", "2024-03-02 11:00", "2024-03-01 10:00"]
        )
    )
    assert list(history[schema.EVENT_TYPE]) == ["purchase", "purchase", "cart", "view"]
    assert list(history[schema.ITEM_ID]) == ["i1", "i3", "i2", "i1"]
    # i3 is not in the product table: no name, the event's own category.
    names = history[schema.NAME].tolist()
    assert [names[0], names[2], names[3]] == ["Mug", "Kettle", "Mug"]
    assert pd.isna(names[1])
    assert list(history[schema.CATEGORY]) == ["Kitchen", "from event", "Kitchen", "Kitchen"]
    # The event's own price wins (what the user saw), else the product table's, else missing.
    assert history[schema.PRICE].iloc[0] == pytest.approx(4.0)
    assert pd.isna(history[schema.PRICE].iloc[1])
    assert history[schema.PRICE].iloc[2] == pytest.approx(7.5)
    assert history[schema.PRICE].iloc[3] == pytest.approx(5.0)


def test_before_keeps_only_earlier_events_and_limit_keeps_the_newest(events, products):
    before = recommend.user_history(events, products, "u1", before=pd.Timestamp("2024-03-05"))
    assert list(before[schema.ITEM_ID]) == ["i2", "i1"]
    newest = recommend.user_history(events, products, "u1", limit=2)
    assert list(newest[schema.ITEM_ID]) == ["i1", "i3"]


def test_a_known_user_without_events_before_the_date_gets_an_empty_history(events, products):
    history = recommend.user_history(events, products, "u2", before=pd.Timestamp("2024-03-01"))
    assert history.empty
    assert list(history.columns) == list(recommend.HISTORY_COLUMNS)


def test_without_a_product_table_the_events_own_fields_are_used(events):
    history = recommend.user_history(events, None, "u1")
    assert history[schema.NAME].isna().all()
    assert list(history[schema.CATEGORY].fillna("-")) == ["-", "from event", "-", "-"]
    assert history[schema.PRICE].iloc[0] == pytest.approx(4.0)


def test_unknown_user_raises_unknown_user_error(events, products):
    with pytest.raises(recommend.UnknownUserError, match="User 'nobody' is not in this data"):
        recommend.user_history(events, products, "nobody")


def test_user_history_does_not_change_its_inputs(events, products):
    events_before, products_before = events.copy(), products.copy()
    recommend.user_history(events, products, "u1", before=pd.Timestamp("2024-03-06"))
    pd.testing.assert_frame_equal(events, events_before)
    pd.testing.assert_frame_equal(products, products_before)
