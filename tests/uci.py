"""A raw UCI "Online Retail" export made from a small generated shop: invoice lines with
descriptions, cancelled invoices as negative quantities, and postage lines (POST on every
other invoice, so that it is the most bought "item", and DOT on some)."""

from __future__ import annotations

import pandas as pd

from core.data.sample import generate_sample_world

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"


def raw_uci_export(*, n_users: int = 1500, n_items: int = 150, days: int = 150) -> bytes:
    """The CSV bytes of the export (cp1252, UCI's month/day/year times)."""
    world = generate_sample_world(
        random_state=3, n_users=n_users, n_items=n_items, n_categories=8, days=days
    )
    events, products = world.frames
    names = products.set_index("item_id")["name"]
    lines = events[events["event_type"].isin(["purchase", "return"])].copy()
    returned = lines["event_type"] == "return"
    invoice = lines["order_id"].astype(str)
    out = pd.DataFrame(
        {
            "InvoiceNo": invoice.where(~returned, "C" + invoice),
            "StockCode": lines["item_id"].astype(str),
            "Description": lines["item_id"].map(names).astype(str).str.upper(),
            "Quantity": lines["quantity"].fillna(1).astype(int).where(~returned, -1),
            "InvoiceDate": pd.to_datetime(lines["timestamp"]).dt.strftime("%-m/%-d/%Y %-H:%M"),
            "UnitPrice": lines["price"].round(2),
            "CustomerID": "1" + lines["user_id"].astype(str).str[-4:] + ".0",
            "Country": "United Kingdom",
        }
    )
    firsts = out[~returned.to_numpy()].drop_duplicates("InvoiceNo")
    post = firsts.iloc[::2].assign(StockCode="POST", Description="POSTAGE", Quantity=1)
    dot = firsts.iloc[1::7].assign(StockCode="DOT", Description="DOTCOM POSTAGE", Quantity=1)
    post["UnitPrice"], dot["UnitPrice"] = 18.0, 120.5
    table = pd.concat([out, post, dot]).sort_index(kind="stable")
    return table.to_csv(index=False).encode("cp1252")
