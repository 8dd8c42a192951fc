"""Names of the Overview's result columns, KPIs and RFM segments, and the options' types.

Definitions used throughout the Overview:

- A period is ``[start, end)``: ``start`` inclusive, ``end`` exclusive, in naive UTC like the
  loaded events. For a date picker's last day ``d``, pass ``end = d + 1 day``. The previous
  period is the one of equal length just before ``start``.
- An order is defined in ``core.data.orders``; it belongs to the period of its first line.
- Revenue is price x quantity summed over purchase lines (quantity 1 where missing; the event's
  price, else the product table's price). Returns are not subtracted: revenue is gross. Data
  without any price has no revenue: ``None`` in values, NaN in frames.
- A session is the event's ``session_id`` where it has one; other events are split per user
  at gaps of more than 30 minutes of inactivity (a gap of exactly 30 minutes continues it).
- A user is new in a period when their first event ever falls in it. ``compute_overview``
  judges that on all events, whatever the filters; every other figure follows the filters.
- Steps of a funnel happen "at or after" the previous step: equal times count as in order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Final, Literal, TypeAlias, TypedDict

import numpy as np
import pandas as pd

from core import schema

Freq = Literal["D", "W", "M"]
FunnelSplit = Literal["category", "brand", "new_vs_returning"]
Measure = Literal["views", "carts", "orders", "revenue"]
SalesMeasure = Literal["units", "orders", "revenue"]
RetentionMetric = Literal["active", "buying"]
TimeLike: TypeAlias = pd.Timestamp | str


class Period(TypedDict, total=False):
    """The period ``[start, end)`` a figure covers, given as keyword arguments (absent or
    ``None``: from the first event, to just after the last)."""

    start: TimeLike | None
    end: TimeLike | None


def period_of_days(first_day: dt.date, last_day: dt.date) -> Period:
    """The period of the days ``first_day..last_day``, both included: ``[first_day, the day
    after last_day)``, as the Overview's date picker and the command line give it."""
    return {"start": pd.Timestamp(first_day), "end": pd.Timestamp(last_day) + pd.Timedelta(days=1)}


class Selection(Period, total=False):
    """What part of the shop a figure covers, given as keyword arguments: the ``Period`` and
    the categories, brands and event types kept (absent or ``None``: all)."""

    categories: Sequence[str] | str | None
    brands: Sequence[str] | str | None
    event_types: Sequence[str] | str | None


Rows: TypeAlias = slice | np.ndarray

HOUR_NS: Final = 3_600 * 10**9
MINUTE_NS: Final = 60 * 10**9
DEFAULT_WINDOW_HOURS: Final = 24.0 * 7
DEFAULT_GAP_MINUTES: Final = 30.0

# Output column names (inputs are named through core.schema).
PERIOD: Final = "period"
SEGMENT: Final = "segment"
STEP: Final = "step"
USERS: Final = "users"
EVENTS: Final = "events"
VIEWS: Final = "views"
CARTS: Final = "carts"
PURCHASES: Final = "purchases"
ORDERS: Final = "orders"
UNITS: Final = "units"
REVENUE: Final = "revenue"
NET_REVENUE: Final = "net_revenue"
NON_PRODUCT_REVENUE: Final = "non_product_revenue"
BUYERS: Final = "buyers"
VIEWERS: Final = "viewers"
SESSIONS: Final = "sessions"
ACTIVE_USERS: Final = "active_users"
NEW_USERS: Final = "new_users"
RETURNING_USERS: Final = "returning_users"
NEW_SHARE: Final = "new_share"
AVERAGE_ORDER_VALUE: Final = "average_order_value"
CONVERSION_RATE: Final = "conversion_rate"
REPEAT_BUYER_SHARE: Final = "repeat_buyer_share"
CONVERSION_FROM_PREVIOUS: Final = "conversion_from_previous"
CONVERSION_FROM_FIRST: Final = "conversion_from_first"
DROP_OFF: Final = "drop_off"
DROP_OFF_SHARE: Final = "drop_off_share"
MEDIAN_HOURS: Final = "median_hours_from_previous"
COMPLETE: Final = "complete"
KPI: Final = "kpi"
LABEL: Final = "label"
VALUE: Final = "value"
PREVIOUS: Final = "previous"
CHANGE: Final = "change"
DIFFERENCE: Final = "difference"
UNIT: Final = "unit"
CONVERTED: Final = "converted"
VIEW_TO_PURCHASE: Final = "view_to_purchase"
PURCHASES_PER_VIEW: Final = "purchases_per_view"
ITEMS: Final = "items"
MIN: Final = "min"
P10: Final = "p10"
P25: Final = "p25"
MEDIAN: Final = "median"
P75: Final = "p75"
P90: Final = "p90"
MAX: Final = "max"
MEAN: Final = "mean"
ITEM_SHARE: Final = "item_share"
SALES_SHARE: Final = "sales_share"
RECENCY_DAYS: Final = "recency_days"
FREQUENCY: Final = "frequency"
MONETARY: Final = "monetary"
R_SCORE: Final = "r_score"
F_SCORE: Final = "f_score"
M_SCORE: Final = "m_score"
USER_SHARE: Final = "user_share"
REVENUE_SHARE: Final = "revenue_share"
FIRST_EVENT: Final = "first_event"
LAST_EVENT: Final = "last_event"
ENTERED_AT: Final = "entered_at"
FURTHEST_STEP: Final = "furthest_step"
NEW: Final = "new"
RETURNING: Final = "returning"

# KPI units, for formatting.
COUNT: Final = "count"
MONEY: Final = "money"
SHARE: Final = "share"

KPIS: Final[tuple[tuple[str, str, str], ...]] = (
    (ACTIVE_USERS, "Active users", COUNT),
    (NEW_USERS, "New users", COUNT),
    (SESSIONS, "Sessions", COUNT),
    (VIEWS, "Views", COUNT),
    (CARTS, "Add-to-carts", COUNT),
    (ORDERS, "Orders", COUNT),
    (BUYERS, "Buyers", COUNT),
    (REVENUE, "Gross revenue", MONEY),
    (NET_REVENUE, "Net revenue", MONEY),
    (NON_PRODUCT_REVENUE, "Postage and fees", MONEY),
    (AVERAGE_ORDER_VALUE, "Average order value", MONEY),
    (CONVERSION_RATE, "Buyers ÷ active users", SHARE),
    (REPEAT_BUYER_SHARE, "Repeat-buyer share", SHARE),
)

WEEKDAYS: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# RFM segments, best first, and the R x F grid they come from (rows R = 1..5, columns F = 1..5).
CHAMPIONS: Final = "Champions"
LOYAL: Final = "Loyal"
POTENTIAL_LOYALISTS: Final = "Potential loyalists"
NEW_CUSTOMERS: Final = "New"
PROMISING: Final = "Promising"
NEED_ATTENTION: Final = "Need attention"
ABOUT_TO_SLEEP: Final = "About to sleep"
AT_RISK: Final = "At risk"
CANT_LOSE: Final = "Can't lose them"
HIBERNATING: Final = "Hibernating"
LOST: Final = "Lost"
SEGMENTS: Final = (
    CHAMPIONS,
    LOYAL,
    POTENTIAL_LOYALISTS,
    NEW_CUSTOMERS,
    PROMISING,
    NEED_ATTENTION,
    ABOUT_TO_SLEEP,
    AT_RISK,
    CANT_LOSE,
    HIBERNATING,
    LOST,
)
RF_GRID: Final = (
    (LOST, LOST, AT_RISK, AT_RISK, CANT_LOSE),  # R = 1
    (HIBERNATING, HIBERNATING, AT_RISK, AT_RISK, CANT_LOSE),  # R = 2
    (ABOUT_TO_SLEEP, ABOUT_TO_SLEEP, NEED_ATTENTION, LOYAL, LOYAL),  # R = 3
    (PROMISING, POTENTIAL_LOYALISTS, POTENTIAL_LOYALISTS, LOYAL, LOYAL),  # R = 4
    (NEW_CUSTOMERS, POTENTIAL_LOYALISTS, POTENTIAL_LOYALISTS, CHAMPIONS, CHAMPIONS),  # R = 5
)

_STEP_KINDS: Final = (schema.VIEW, schema.CART, schema.PURCHASE)
_KIND_INDEX: Final = {kind: index for index, kind in enumerate(schema.EVENT_TYPES)}
_K_VIEW, _K_CART, _K_FAV, _K_PURCHASE, _K_RETURN = range(5)
_K_OTHER: Final = len(schema.EVENT_TYPES)
_INT64_SAFE: Final = 2**62
_NO_TIME: Final = np.iinfo(np.int64).max
_QUINTILE_EDGES: Final = np.array([0.2, 0.4, 0.6, 0.8])
_PRICE_QUANTILES: Final = ((P10, 0.1), (P25, 0.25), (MEDIAN, 0.5), (P75, 0.75), (P90, 0.9))
