"""Hostile strings and a small shop made of them: every id, name, category, brand and the file
name try to become Markdown, KaTeX, a link, an image, a colour directive or HTML."""

import csv
import datetime as dt
import io
import random

HOSTILE = (
    "[x](https://evil.example)",
    "![t](http://127.0.0.1:9/fn.png)",
    "$e^x$",
    "https://evil.example/login",
    "www.evil.example",
    ":red[alert]",
    "<b>html</b>",
    "<img src=x onerror=alert(1)>",
    "a@evil.example",
    ":material/home: :smile:",
    "**bold** _em_ `code`",
    "# heading",
    "- item",
    "1. item",
    "> quote",
    "---",
    "&lt;b&gt;",
)
EVENTS_NAME = (
    "[Sign in again](https://evil.example/login) ![t](http://127.0.0.1:9/fn.png) $e^x$.csv"
)
PRODUCTS_NAME = "www.evil.example :red[alert] <b>html</b>.csv"
BROWSER_HOSTILE = HOSTILE[:8]  # the shop's ids and names: one of each kind of hole

ITEMS = 16
START = dt.datetime(2024, 1, 1)
USERS = 40


def _item(j: int) -> str:
    return f"{BROWSER_HOSTILE[j % len(BROWSER_HOSTILE)]} i{j}"


def events_csv() -> bytes:
    """Eight months of views, carts and purchases of 40 users on 16 products, enough to train
    both models briefly."""
    rng = random.Random(0)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["user_id", "item_id", "event_type", "timestamp", "price"])
    for i in range(USERS):
        user = f"{BROWSER_HOSTILE[i % len(BROWSER_HOSTILE)]} u{i}"
        liked = rng.sample(range(ITEMS), 4)
        for _ in range(rng.randint(6, 14)):
            j = rng.choice(liked) if rng.random() < 0.8 else rng.randrange(ITEMS)
            day = rng.randrange(240)
            hour, minute = rng.randrange(24), rng.randrange(60)
            stamp = START + dt.timedelta(days=day, hours=hour, minutes=minute)
            price = f"{5 + j:.2f}"
            for step, event in enumerate(("view", "cart", "purchase")):
                moment = (stamp + dt.timedelta(minutes=2 * step)).isoformat()
                writer.writerow([user, _item(j), event, moment, price])
                if rng.random() < 0.35:
                    break
    return out.getvalue().encode()


def products_csv() -> bytes:
    """The product table: hostile names, categories and brands."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["item_id", "name", "category", "brand", "price"])
    n = len(BROWSER_HOSTILE)
    for j in range(ITEMS):
        writer.writerow(
            [
                _item(j),
                f"{BROWSER_HOSTILE[(j + 1) % n]} name {j}",
                BROWSER_HOSTILE[(j + 2) % n],
                BROWSER_HOSTILE[(j + 3) % n],
                f"{5 + j:.2f}",
            ]
        )
    return out.getvalue().encode()
