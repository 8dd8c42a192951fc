"""The canonical data model: column names, event types and the shop exports we recognise.

Every other module refers to columns through the constants here, never through string literals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final, Literal

# Event columns.
USER_ID: Final = "user_id"
ITEM_ID: Final = "item_id"
EVENT_TYPE: Final = "event_type"
TIMESTAMP: Final = "timestamp"
QUANTITY: Final = "quantity"
PRICE: Final = "price"
ORDER_ID: Final = "order_id"
SESSION_ID: Final = "session_id"
CATEGORY: Final = "category"

# Product columns (besides ITEM_ID, CATEGORY and PRICE).
BRAND: Final = "brand"
NAME: Final = "name"

# A line total (price x quantity) some exports give instead of a unit price; it is read into
# PRICE as amount / quantity and never kept as a column of its own.
AMOUNT: Final = "amount"

EVENT_FIELDS: Final = (
    USER_ID,
    ITEM_ID,
    EVENT_TYPE,
    TIMESTAMP,
    QUANTITY,
    PRICE,
    ORDER_ID,
    SESSION_ID,
    CATEGORY,
    NAME,
)
EVENT_MAPPING_FIELDS: Final = (*EVENT_FIELDS, AMOUNT)
REQUIRED_EVENT_FIELDS: Final = (USER_ID, TIMESTAMP)
PRODUCT_FIELDS: Final = (ITEM_ID, CATEGORY, PRICE, BRAND, NAME)
ID_FIELDS: Final = (USER_ID, ITEM_ID, ORDER_ID, SESSION_ID, CATEGORY, BRAND, NAME)
NUMERIC_FIELDS: Final = (QUANTITY, PRICE)

# Canonical event types.
VIEW: Final = "view"
CART: Final = "cart"
FAV: Final = "fav"
PURCHASE: Final = "purchase"
RETURN: Final = "return"
EVENT_TYPES: Final = (VIEW, CART, FAV, PURCHASE, RETURN)

Table = Literal["events", "products"]

# Raw event labels seen in exports, normalised with ``normalise_label``.
EVENT_SYNONYMS: Final[dict[str, str]] = {
    **dict.fromkeys(
        [
            "view",
            "views",
            "pv",
            "click",
            "clicks",
            "detail",
            "detailview",
            "pageview",
            "productview",
            "viewitem",
            "browse",
            "impression",
            "ansicht",
            "aufruf",
            "vue",
            "vista",
            "visualizacion",
            "浏览",
            "点击",
        ],
        VIEW,
    ),
    **dict.fromkeys(
        [
            "cart",
            "addtocart",
            "addcart",
            "addtobasket",
            "basket",
            "addtobag",
            "cartadd",
            "加购",
            "加购物车",
            "购物车",
            "warenkorb",
            "panier",
            "carrito",
            "carrello",
        ],
        CART,
    ),
    **dict.fromkeys(
        [
            "fav",
            "favorite",
            "favourite",
            "wishlist",
            "addtowishlist",
            "like",
            "collect",
            "save",
            "收藏",
            "merkliste",
            "favorit",
            "favori",
            "favorito",
        ],
        FAV,
    ),
    **dict.fromkeys(
        [
            "purchase",
            "purchased",
            "buy",
            "bought",
            "order",
            "ordered",
            "transaction",
            "checkout",
            "sale",
            "sold",
            "购买",
            "下单",
            "kauf",
            "bestellung",
            "achat",
            "commande",
            "compra",
            "pedido",
            "acquisto",
        ],
        PURCHASE,
    ),
    **dict.fromkeys(
        [
            "return",
            "returned",
            "refund",
            "refunded",
            "cancel",
            "cancelled",
            "canceled",
            "退货",
            "retoure",
            "rückgabe",
            "retour",
            "devolucion",
        ],
        RETURN,
    ),
}

# Numeric behaviour codes as used by the Tianchi mobile-recommendation exports.
EVENT_CODES: Final[dict[str, str]] = {"1": VIEW, "2": FAV, "3": CART, "4": PURCHASE}
EVENT_CODE_NOTE: Final = (
    "Event codes 1-4 were read as 1 = view, 2 = fav, 3 = cart, 4 = purchase "
    "(the Tianchi convention); change the event column on the Data page if yours differ."
)

# Header synonyms, normalised with ``normalise_label``; the first match wins.
COLUMN_SYNONYMS: Final[dict[str, tuple[str, ...]]] = {
    USER_ID: (
        "userid",
        "user",
        "customerid",
        "customer",
        "customeruniqueid",
        "visitorid",
        "visitor",
        "clientid",
        "client",
        "memberid",
        "buyerid",
        "accountid",
        "uid",
        "cid",
        "shopperid",
        "用户id",
        "用户",
        "会员id",
        "客户id",
    ),
    ITEM_ID: (
        "itemid",
        "item",
        "productid",
        "product",
        "sku",
        "skuid",
        "stockcode",
        "articleid",
        "article",
        "goodsid",
        "productcode",
        "itemcode",
        "asin",
        "pid",
        "商品id",
        "商品",
    ),
    EVENT_TYPE: (
        "eventtype",
        "event",
        "behaviortype",
        "behaviourtype",
        "behavior",
        "behaviour",
        "action",
        "actiontype",
        "interaction",
        "interactiontype",
        "eventname",
        "type",
        "行为类型",
        "行为",
    ),
    TIMESTAMP: (
        "timestamp",
        "eventtime",
        "time",
        "datetime",
        "date",
        "invoicedate",
        "orderdate",
        "orderpurchasetimestamp",
        "createdat",
        "eventdate",
        "ts",
        "occurredat",
        "时间",
        "时间戳",
        "日期",
    ),
    QUANTITY: ("quantity", "qty", "units", "count", "amountunits", "数量"),
    PRICE: ("price", "unitprice", "itemprice", "saleprice", "价格", "单价"),
    AMOUNT: ("amount", "lineamount", "linetotal", "total", "revenue", "sales", "value", "金额"),
    ORDER_ID: (
        "orderid",
        "order",
        "invoice",
        "invoiceno",
        "invoicenumber",
        "transactionid",
        "transaction",
        "ordernumber",
        "orderno",
        "订单id",
        "订单号",
    ),
    SESSION_ID: ("sessionid", "session", "usersession", "visitid", "会话id"),
    CATEGORY: (
        "category",
        "categoryid",
        "categorycode",
        "categoryname",
        "productcategoryname",
        "cat",
        "catid",
        "类目",
        "类目id",
        "品类",
    ),
    BRAND: ("brand", "brandname", "manufacturer", "品牌"),
    NAME: (
        "name",
        "productname",
        "itemname",
        "title",
        "description",
        "productdescription",
        "商品名称",
        "名称",
    ),
}


def normalise_label(text: str) -> str:
    """Lower-case ``text`` and keep only letters and digits ("Customer ID" -> "customerid")."""
    return re.sub(r"[\W_]+", "", str(text).strip().lower())


@dataclass(frozen=True)
class ExportFormat:
    """A shop export we recognise from its header names (or, without a header, its value shapes).

    Attributes:
        key: short identifier used in JSON output.
        label: what the user sees ("RetailRocket events.csv").
        headers: normalised header names that must all be present.
        mapping: canonical field -> source column name.
        purchase_table: every row is a sold line (no event column).
        cancel_prefix: order ids starting with this mark a return (UCI Online Retail).
    """

    key: str
    label: str
    headers: frozenset[str]
    mapping: dict[str, str] = field(default_factory=dict)
    purchase_table: bool = False
    cancel_prefix: str | None = None


EXPORT_FORMATS: Final[tuple[ExportFormat, ...]] = (
    ExportFormat(
        key="retailrocket",
        label="RetailRocket events.csv",
        headers=frozenset({"timestamp", "visitorid", "event", "itemid", "transactionid"}),
        mapping={
            TIMESTAMP: "timestamp",
            USER_ID: "visitorid",
            EVENT_TYPE: "event",
            ITEM_ID: "itemid",
            ORDER_ID: "transactionid",
        },
    ),
    ExportFormat(
        key="rees46",
        label="REES46 multi-category store",
        headers=frozenset(
            {"eventtime", "eventtype", "productid", "categoryid", "price", "userid", "usersession"}
        ),
        mapping={
            TIMESTAMP: "event_time",
            EVENT_TYPE: "event_type",
            ITEM_ID: "product_id",
            CATEGORY: "category_code",
            PRICE: "price",
            USER_ID: "user_id",
            SESSION_ID: "user_session",
        },
    ),
    ExportFormat(
        key="online_retail",
        label="UCI Online Retail",
        headers=frozenset(
            {"invoiceno", "stockcode", "quantity", "invoicedate", "unitprice", "customerid"}
        ),
        mapping={
            ORDER_ID: "InvoiceNo",
            ITEM_ID: "StockCode",
            QUANTITY: "Quantity",
            TIMESTAMP: "InvoiceDate",
            PRICE: "UnitPrice",
            USER_ID: "CustomerID",
            NAME: "Description",
        },
        purchase_table=True,
        cancel_prefix="C",
    ),
    ExportFormat(
        key="online_retail_ii",
        label="UCI Online Retail II",
        headers=frozenset(
            {"invoice", "stockcode", "quantity", "invoicedate", "price", "customerid"}
        ),
        mapping={
            ORDER_ID: "Invoice",
            ITEM_ID: "StockCode",
            QUANTITY: "Quantity",
            TIMESTAMP: "InvoiceDate",
            PRICE: "Price",
            USER_ID: "Customer ID",
            NAME: "Description",
        },
        purchase_table=True,
        cancel_prefix="C",
    ),
    ExportFormat(
        key="olist",
        label="Olist order items joined to orders",
        headers=frozenset(
            {"orderid", "orderitemid", "productid", "price", "orderpurchasetimestamp"}
        ),
        mapping={
            ORDER_ID: "order_id",
            ITEM_ID: "product_id",
            PRICE: "price",
            TIMESTAMP: "order_purchase_timestamp",
            USER_ID: "customer_unique_id",
        },
        purchase_table=True,
    ),
    ExportFormat(
        key="canonical",
        label="ShopLens canonical columns",
        headers=frozenset({"userid", "eventtype", "timestamp"}),
    ),
)

TAOBAO: Final = ExportFormat(
    key="taobao",
    label="Taobao / Tianchi UserBehavior (no header)",
    headers=frozenset(),
    mapping={
        USER_ID: "column_1",
        ITEM_ID: "column_2",
        CATEGORY: "column_3",
        EVENT_TYPE: "column_4",
        TIMESTAMP: "column_5",
    },
)
GENERIC: Final = ExportFormat(
    key="generic", label="Unrecognised export (best guess)", headers=frozenset()
)
PRODUCTS_TABLE: Final = ExportFormat(key="products", label="Product table", headers=frozenset())
