"""The command line's overview: `python -m core overview EVENTS [--from D] [--to D] [--json]`
prints the Overview page's KPIs for a period and the period's postage and fee lines."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from core import overview as an
from core.data.loading import load_shop
from tests.cli import run_cli, run_json
from tests.frames import small_shop_frames, write_shop
from tests.reading import write

# An untouched UCI Online Retail export over three days:
# 1 Dec: 17850 buys 6 x 2.55 = 15.30 and postage 18.00 (order 536365).
# 2 Dec: 13047 buys 4 x 2.00 = 8.00 and dotcom postage 5.00 (order 536366).
# 3 Dec: 17850 returns 2 x 2.55 = 5.10 (C536367); 13047 buys 2 x 2.00 = 4.00 and postage 18.00
#        (order 536368), so 13047 has two orders.
UCI = (
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,UK\n"
    "536365,POST,POSTAGE,1,12/1/2010 8:26,18.00,17850,UK\n"
    "536366,22633,HAND WARMER UNION JACK,4,12/2/2010 9:00,2.00,13047,UK\n"
    "536366,DOT,DOTCOM POSTAGE,1,12/2/2010 9:00,5.00,13047,UK\n"
    "C536367,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-2,12/3/2010 10:00,2.55,17850,UK\n"
    "536368,22633,HAND WARMER UNION JACK,2,12/3/2010 11:00,2.00,13047,UK\n"
    "536368,POST,POSTAGE,1,12/3/2010 11:00,18.00,13047,UK\n"
)
KPI_KEYS = [key for key, _, _ in an.KPIS]


@pytest.fixture
def orders(tmp_path):
    return write(tmp_path, "Online Retail.csv", UCI)


def overview_json(capsys, *args) -> dict:
    return run_json(capsys, "overview", *args, "--json")


def test_whole_data_gives_revenue_returns_and_postage_as_counted_by_hand(orders, capsys):
    summary = overview_json(capsys, orders)

    assert summary["period"] == {"start": "2010-12-01", "end": "2010-12-03"}
    kpis = summary["kpis"]
    assert list(kpis) == KPI_KEYS
    assert kpis[an.ACTIVE_USERS] == 2
    assert kpis[an.NEW_USERS] == 2
    assert kpis[an.SESSIONS] == 4  # each customer on two days
    assert kpis[an.ORDERS] == 3  # the cancelled invoice is a return, not an order
    assert kpis[an.BUYERS] == 2
    assert kpis[an.REVENUE] == pytest.approx(15.30 + 18 + 8 + 5 + 4 + 18)
    assert kpis[an.NET_REVENUE] == pytest.approx(68.30 - 5.10)
    assert kpis[an.NON_PRODUCT_REVENUE] == pytest.approx(18 + 5 + 18)
    assert kpis[an.AVERAGE_ORDER_VALUE] == pytest.approx(68.30 / 3)
    assert kpis[an.REPEAT_BUYER_SHARE] == pytest.approx(0.5)  # 13047 of the two buyers
    # An orders export has no views or carts, and every active user buys or returns: the page
    # shows none of these, so they are null rather than 0 or 100%.
    assert kpis[an.VIEWS] is None and kpis[an.CARTS] is None
    assert kpis[an.CONVERSION_RATE] is None
    assert summary["non_product_lines"] == {
        "items": [
            {"item_id": "POST", "name": "POSTAGE", "lines": 2, "revenue": pytest.approx(36.0)},
            {"item_id": "DOT", "name": "DOTCOM POSTAGE", "lines": 1, "revenue": 5.0},
        ],
        "lines": 3,
        "revenue": pytest.approx(41.0),
    }


def test_the_previous_period_is_null_when_the_data_starts_inside_the_period(orders, capsys):
    previous = overview_json(capsys, orders)["previous"]

    assert previous["start"] == "2010-11-28" and previous["end"] == "2010-11-30"
    assert previous["complete"] is False
    assert list(previous["kpis"]) == KPI_KEYS
    assert set(previous["kpis"].values()) == {None}


def test_from_and_to_restrict_the_period_and_compare_it_with_the_days_before(orders, capsys):
    summary = overview_json(capsys, orders, "--from", "2010-12-03", "--to", "2010-12-03")

    assert summary["period"] == {"start": "2010-12-03", "end": "2010-12-03"}
    kpis = summary["kpis"]
    assert kpis[an.ACTIVE_USERS] == 2  # 17850 returns, 13047 buys
    assert kpis[an.NEW_USERS] == 0
    assert kpis[an.ORDERS] == 1 and kpis[an.BUYERS] == 1
    assert kpis[an.REVENUE] == pytest.approx(4 + 18)
    assert kpis[an.NET_REVENUE] == pytest.approx(22 - 5.10)
    assert kpis[an.NON_PRODUCT_REVENUE] == pytest.approx(18)
    assert kpis[an.REPEAT_BUYER_SHARE] == pytest.approx(1.0)  # 13047's second order
    assert summary["non_product_lines"] == {
        "items": [{"item_id": "POST", "name": "POSTAGE", "lines": 1, "revenue": 18.0}],
        "lines": 1,
        "revenue": 18.0,
    }
    previous = summary["previous"]
    assert previous["start"] == previous["end"] == "2010-12-02"
    assert previous["kpis"][an.ORDERS] == 1
    assert previous["kpis"][an.REVENUE] == pytest.approx(8 + 5)
    assert previous["kpis"][an.NON_PRODUCT_REVENUE] == pytest.approx(5)


def test_a_period_without_postage_has_no_non_product_lines(tmp_path, capsys):
    products_only = "".join(line for line in UCI.splitlines(True) if "POSTAGE" not in line)
    path = write(tmp_path, "orders.csv", products_only)

    summary = overview_json(capsys, path, "--to", "2010-12-02")

    assert summary["non_product_lines"] == {"items": [], "lines": 0, "revenue": None}
    assert summary["kpis"][an.NON_PRODUCT_REVENUE] == 0.0  # known: none
    assert summary["kpis"][an.REVENUE] == pytest.approx(15.30 + 8)


def test_text_shows_the_pages_labels_and_never_nan_or_none(orders, capsys):
    code, out, err = run_cli(capsys, "overview", orders)

    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == (
        "Period: 2010-12-01 to 2010-12-03 (3 days), compared with the 3 days before: "
        "2010-11-28 to 2010-11-30"
    )
    assert "Gross revenue: 68.30" in lines
    assert "Net revenue: 63.20" in lines
    assert "Postage and fees: 41.00" in lines
    assert "Average order value: 22.77" in lines
    assert "Repeat-buyer share: 50.0%" in lines
    assert "  POST POSTAGE: 2 lines, 36.00" in lines
    assert "  DOT DOTCOM POSTAGE: 1 line, 5.00" in lines
    assert "  Total: 3 lines, 41.00" in lines
    assert not any(label in out for label in ("Views:", "Add-to-carts:", "Buyers ÷ active"))
    assert not re.search(r"\b(nan|None|NaN)\b", out)


def test_text_shows_the_change_on_the_previous_period(orders, capsys):
    code, out, _ = run_cli(capsys, "overview", orders, "--from", "2010-12-03")

    assert code == 0
    assert "Orders: 1 (+0.0% on the previous)" in out.splitlines()
    assert "Gross revenue: 22.00 (+69.2% on the previous)" in out.splitlines()  # 22 / 13 - 1


def test_data_without_prices_and_with_rejected_rows_exits_0_without_nan(tmp_path, capsys):
    path = write(
        tmp_path,
        "events.csv",
        "user_id,item_id,event_type,timestamp\n"
        "u1,i1,view,2024-03-01 10:00:00\n"
        ",i2,view,2024-03-02 09:30:00\n"
        "u2,i2,buy,2024-03-03 18:45:00\n",
    )

    code, out, err = run_cli(capsys, "overview", path)
    summary = overview_json(capsys, path)

    assert code == 0 and err == ""
    assert "Note: 1 of 3 rows were rejected while loading (1 missing user id)" in out
    assert "this data has no prices" in out
    assert "Gross revenue" not in out and "Postage" not in out
    assert not re.search(r"\b(nan|None|NaN)\b", out)
    assert summary["rows_read"] == 3 and summary["rows_kept"] == 2
    assert summary["rejected"] == {"missing user id": 1}
    assert summary["kpis"][an.REVENUE] is None
    assert summary["kpis"][an.NON_PRODUCT_REVENUE] is None
    assert summary["kpis"][an.CONVERSION_RATE] == pytest.approx(0.5)
    assert summary["non_product_lines"] == {"items": [], "lines": 0, "revenue": None}


def test_the_kpis_are_the_overview_pages_for_the_same_days(tmp_path, capsys):
    events, products = small_shop_frames()
    events_path, products_path = write_shop(tmp_path, events, products)
    shop = load_shop(events_path, products_path)
    options = an.list_filter_options(shop.events.frame, shop.product_frame)
    assert options.end is not None
    last = options.end.date() - dt.timedelta(days=7)  # a period with a full one before it
    first = last - dt.timedelta(days=29)

    summary = overview_json(
        capsys, events_path, "--products", products_path, "--from", f"{first}", "--to", f"{last}"
    )

    period = an.period_of_days(first, last)  # as the page's date picker gives it
    page = an.compute_overview(shop.events.frame, shop.product_frame, **period).kpis
    shown = page.answerable(options.event_types)
    assert set(shown) >= {an.ORDERS, an.REVENUE, an.CONVERSION_RATE, an.VIEWS}
    assert page.previous_complete
    for kpi in shown:
        assert summary["kpis"][kpi] == pytest.approx(page.value(kpi)), kpi
        assert summary["previous"]["kpis"][kpi] == pytest.approx(page.previous(kpi)), kpi
    assert summary["kpis"][an.ORDERS] > 0
    assert summary["previous"]["complete"] is True
    assert summary["previous"]["start"] == f"{page.previous_start:%Y-%m-%d}"


ERRORS = {
    "a malformed --from": (["--from", "2010-13-01"], r"'2010-13-01' is not a day; write it as"),
    "a --to that is no date": (["--to", "soon"], r"'soon' is not a day; write it as YYYY-MM-DD"),
    "--from after --to": (
        ["--from", "2010-12-03", "--to", "2010-12-01"],
        r"--from 2010-12-03 is after --to 2010-12-01",
    ),
    "--from after the data": (
        ["--from", "2011-01-01"],
        r"--from 2011-01-01 is after the data's last day; the data runs from 2010-12-01 to "
        r"2010-12-03, so pick a --from on or before 2010-12-03",
    ),
    "--to before the data": (
        ["--from", "2010-11-01", "--to", "2010-11-05"],
        r"--to 2010-11-05 is before the data's first day; the data runs from 2010-12-01",
    ),
    "a missing file": (["{missing}"], r"File '.*no_such\.csv' does not exist"),
    "an empty file": (["{empty}"], r"'empty\.csv' is empty"),
}


@pytest.mark.parametrize(("args", "message"), ERRORS.values(), ids=list(ERRORS))
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_an_input_error_exits_2_with_one_line_naming_it(
    orders, tmp_path, capsys, args, message, as_json
):
    files = {
        "missing": str(tmp_path / "no_such.csv"),
        "empty": str(write(tmp_path, "empty.csv", "")),
    }
    if not args[0].startswith("{"):
        args = [str(orders), *args]
    args = [a.format(**files) for a in args] + (["--json"] if as_json else [])

    code, out, err = run_cli(capsys, "overview", *args)

    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1 and err.endswith("\n")
    assert err.startswith("error: ") and "Traceback" not in err
    assert re.search(message, err), err


def test_a_period_partly_outside_the_data_is_kept(orders, capsys):
    summary = overview_json(capsys, orders, "--from", "2010-11-20", "--to", "2010-12-01")

    assert summary["period"] == {"start": "2010-11-20", "end": "2010-12-01"}
    assert summary["kpis"][an.ORDERS] == 1
    assert summary["kpis"][an.REVENUE] == pytest.approx(15.30 + 18)
