"""The command spec: every command the app understands, typed or spoken, defined once.

Each command has its intent, what it does (for help), the pages it acts on, its wordings in
the grammar of :mod:`core.commands.grammar`, its values (slots) with the constraints that
check them, and examples with the JSON each must give. The parser, the recogniser's
vocabulary and example sentences, the help text, the README's table and the tests are all
generated from this module; a new command, wording or page is a line here.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from core.data import catalogue
from core.ml.layers import EPOCHS, HiddenLayers
from core.params import HORIZON, Constraint, K, Whole

# --- pages ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """A page of the app: its key in commands, its title, and what people call it."""

    key: str
    title: str
    said: tuple[str, ...]


# The app's pages, in the navigation's order. A page added later is one line here (and its
# script in ui.navigation).
PAGES: Final = (
    Page("home", "Home", ("home", "home page", "start page", "front page", "welcome page")),
    Page("data", "Data", ("data", "upload", "uploads", "data source")),
    Page("overview", "Overview", ("overview", "shop overview", "dashboard", "kpis")),
    Page(
        "purchase",
        "Purchase prediction",
        ("purchase prediction", "purchase predictions", "purchase", "purchases", "prediction"),
    ),
    Page("recommendations", "Recommendations", ("recommendations", "recommender", "recs")),
    Page(
        "images",
        "Product photos",
        ("product photos", "photos", "images", "product images", "pictures"),
    ),
    Page("runs", "Runs", ("runs", "saved runs", "run list", "run history")),
)
PAGE_TITLES: Final = {page.key: page.title for page in PAGES}
MODEL_PAGES: Final = ("purchase", "recommendations")


def page_title(key: str) -> str:
    """A page's title, e.g. ``Purchase prediction``."""
    return PAGE_TITLES[key]


# --- names from the data -----------------------------------------------------------------------


@dataclass(frozen=True)
class Names:
    """Category and brand names a filter may name: the loaded data's (the sample shop's by
    default)."""

    categories: tuple[str, ...] = catalogue.CATEGORY_NAMES
    brands: tuple[str, ...] = catalogue.BRAND_NAMES


# --- values --------------------------------------------------------------------------------------

Kind = Literal["page", "number", "numbers", "digits", "category", "brand"]

PERIOD_DAYS: Final[Constraint] = Whole("The period (days)", 1, 3660)
RUNS_TO_COMPARE: Final[Constraint] = Whole("The runs to compare", 1, 50)
MAX_USER_CHARS: Final = 100
_WIDTHS = (8, 16, 24, 32, 48, 64, 96, 128, 256, 512)


@dataclass(frozen=True)
class Value:
    """A slot's kind, the constraint its value must meet, and a value to say in examples."""

    kind: Kind
    constraint: Constraint | None = None
    sample: Callable[[random.Random], Any] | None = None


def _layers(rng: random.Random) -> tuple[int, ...]:
    widths = sorted(rng.sample(_WIDTHS, rng.randint(1, 3)), reverse=True)
    return tuple(widths)


def _user(rng: random.Random) -> str:
    digits = str(rng.randint(1, 99_999))
    return digits.zfill(5) if rng.random() < 0.3 else digits


VALUES: Final[Mapping[str, Value]] = {
    "page": Value("page"),
    "category": Value("category"),
    "brand": Value("brand"),
    "days": Value("number", PERIOD_DAYS, lambda r: r.choice((1, 7, 14, 28, 30, 60, 90, 365))),
    "hidden": Value("numbers", HiddenLayers(), _layers),
    "epochs": Value(
        "number",
        EPOCHS,
        lambda r: r.choice((5, 10, 20, 25, 50, 100, 150, 200, 300, 500, 1000)),
    ),
    "k": Value("number", K, lambda r: r.choice((3, 5, 10, 12, 20, 25, 50, 100))),
    "count": Value("number", RUNS_TO_COMPARE, lambda r: r.randint(2, 8)),
    "user": Value("digits", None, _user),
}


# --- synonyms ------------------------------------------------------------------------------------

GROUPS: Final[Mapping[str, tuple[str, ...]]] = {
    "open": (
        "open",
        "show",
        "show me",
        "go to",
        "go",
        "take me to",
        "take me",
        "bring me to",
        "bring up",
        "navigate to",
        "switch to",
        "jump to",
        "head to",
        "back to",
        "go back to",
        "display",
        "view",
        "visit",
        "see",
    ),
    "show": ("show", "show me", "display", "give me", "list", "see", "view"),
    "make": ("make", "create", "build", "generate", "produce", "write", "prepare", "get"),
    "start": ("start", "begin", "run", "launch", "kick off"),
    "train": ("train", "fit", "retrain"),
    "stop": ("stop", "cancel", "abort", "halt", "end", "interrupt", "terminate"),
    "load": ("load", "use", "open", "explore", "try", "switch to", "start with", "go back to"),
    "clear": ("clear", "remove", "reset", "drop", "delete", "turn off", "get rid of"),
    "filter": (
        "filter",
        "filter by",
        "filter on",
        "filter to",
        "filter for",
        "narrow to",
        "narrow down to",
        "limit to",
        "restrict to",
        "focus on",
        "only",
        "show only",
        "only show",
        "show me only",
    ),
    "set": ("set", "change", "put", "update", "adjust", "make"),
    "use": ("use", "try", "pick", "choose", "go with", "with"),
    "to": ("to", "at", "as", "equal to", "equals", "is", "of"),
    "last": ("last", "latest", "newest", "most recent", "recent", "previous"),
    "user": ("user", "customer", "client", "shopper"),
}


# --- commands ------------------------------------------------------------------------------------

PatternText = str | tuple[str, Mapping[str, Any]]


@dataclass(frozen=True)
class Command:
    """One command.

    Attributes:
        intent: its name in the JSON (``{"intent": "go", ...}``).
        does: what it does, for help (``open a page``).
        patterns: its wordings; a pattern with values of its own is ``(text, values)``.
        examples: sentences with the values each must give (the JSON without the intent).
        values: slots whose kind, constraint or examples differ from ``VALUES``' (by name
            in the JSON), e.g. the horizon's days, checked as the horizon.
        pages: the pages it acts on (empty: any page). A command of one page is carried out
            there from any page; one of several pages only on one of them.
        describe: what a parsed command will do, e.g. ``open the Runs page``.
    """

    intent: str
    does: str
    patterns: tuple[PatternText, ...]
    examples: tuple[tuple[str, Mapping[str, Any]], ...]
    describe: Callable[[Mapping[str, Any]], str]
    values: Mapping[str, Value] = field(default_factory=dict)
    pages: tuple[str, ...] = ()

    def value(self, name: str) -> Value:
        """The kind and constraint of slot ``name`` in this command."""
        return self.values.get(name) or VALUES[name]


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _widths(hidden: Any) -> str:
    return ",".join(str(w) for w in hidden)


def _filter_text(c: Mapping[str, Any]) -> str:
    field_name = "category" if "category" in c else "brand"
    return f"filter the Overview to {field_name} {c[field_name]}"


COMMANDS: Final = (
    Command(
        "help",
        "list what you can say on this page",
        (
            "help [me]",
            "what can i (say|do|ask)",
            "what (do|understand)",
            "what [do] you understand",
            "how does (this|it) work",
            "[{show}] [all] commands",
            "what [are] commands",
            "what options",
        ),
        (("what can I say", {}), ("help", {}), ("show me the commands", {})),
        lambda c: "list what you can say on this page",
    ),
    Command(
        "go",
        "open a page: " + ", ".join(p.title for p in PAGES),
        (
            "{open} [the] <page> [page|screen|tab]",
            "<page> [page|screen|tab]",
        ),
        (
            ("go to the overview", {"page": "overview"}),
            ("open recommendations", {"page": "recommendations"}),
            ("show purchase prediction", {"page": "purchase"}),
            ("open the data page", {"page": "data"}),
            ("go to runs", {"page": "runs"}),
            ("take me home", {"page": "home"}),
        ),
        lambda c: f"open the {page_title(c['page'])} page",
    ),
    Command(
        "load_sample",
        "load the bundled sample shop",
        (
            "{load} [the] (sample|demo|example) [shop|store|data|dataset]",
            "(sample|demo) (shop|store|data|dataset)",
        ),
        (("load the sample shop", {}), ("use the demo data", {})),
        lambda c: "load the sample shop",
    ),
    Command(
        "filter",
        "filter the Overview to a category or a brand",
        (
            "{filter} [the] category <category>",
            "{filter} [the] brand <brand>",
            "{filter} [the] <category> [category|products|items]",
            "{filter} [the] <brand> [brand|products|items]",
            "{show} [only] [the] category <category>",
            "{show} [only] [the] brand <brand>",
            "{show} [only] [the] <category> (category|products|items)",
            "{show} [only] [the] <brand> (brand|products|items)",
            "{show} <category>",
            "<category> only",
            "<brand> only",
        ),
        (
            ("filter category shoes", {"category": "shoes"}),
            ("show only garden", {"category": "garden"}),
            ("filter by the category home decor", {"category": "home decor"}),
            ("filter brand Kestrel", {"brand": "kestrel"}),
            ("show only Harbor & Co products", {"brand": "harbor & co"}),
        ),
        _filter_text,
        pages=("overview",),
    ),
    Command(
        "clear_filters",
        "clear the Overview's filters",
        (
            "{clear} [all] [the] (filters|filter)",
            "{show} (everything|all categories|all brands|all products)",
            "(no|without) filters",
            "unfilter",
        ),
        (("clear the filters", {}), ("remove all filters", {}), ("show everything", {})),
        lambda c: "clear the Overview's filters",
        pages=("overview",),
    ),
    Command(
        "period",
        "show the Overview for the last days of the data",
        (
            "[{show}] [the] (last|past|previous) <days> days",
            "{set} [the] period [{to}] [the] [last|past] <days> days",
            "period [of] [the] [last|past] <days> days",
            ("[{show}] [the] (last|past|previous) day", {"days": 1}),
            ("[{show}] [the] (last|past|previous) week", {"days": 7}),
            ("[{show}] [the] (last|past|previous) (two weeks|fortnight)", {"days": 14}),
            ("[{show}] [the] (last|past|previous) month", {"days": 30}),
            ("[{show}] [the] (last|past|previous) quarter", {"days": 91}),
            ("[{show}] [the] (last|past|previous) year", {"days": 365}),
        ),
        (
            ("show the last thirty days", {"days": 30}),
            ("last 7 days", {"days": 7}),
            ("set the period to ninety days", {"days": 90}),
            ("show the last week", {"days": 7}),
        ),
        lambda c: f"show the Overview for the last {_plural(c['days'], 'day')} of the data",
        pages=("overview",),
    ),
    Command(
        "layers",
        "set the hidden layers of this page's network",
        (
            "{set} [the] [hidden] (layers|layer sizes|layer widths) [{to}] <hidden>",
            "{use} [the] [hidden] layers <hidden>",
            "[hidden] layers <hidden>",
            "{use} <hidden> [hidden] layers",
            "<hidden> [hidden] layers",
        ),
        (
            (
                "set hidden layers to one hundred twenty eight sixty four thirty two",
                {"hidden": [128, 64, 32]},
            ),
            ("use layers sixty four thirty two", {"hidden": [64, 32]}),
            ("set the hidden layers to one twenty eight", {"hidden": [128]}),
            ("hidden layers 64,32", {"hidden": [64, 32]}),
            ("use 256 128 hidden layers", {"hidden": [256, 128]}),
        ),
        lambda c: f"set the hidden layers to {_widths(c['hidden'])}",
        pages=MODEL_PAGES,
    ),
    Command(
        "epochs",
        "set the most epochs to train",
        (
            "{set} [the] [number of|max|maximum|most] epochs [{to}] <epochs>",
            "epochs [{to}] <epochs>",
            "{use} <epochs> epochs",
            "<epochs> epochs",
        ),
        (("set epochs to fifty", {"epochs": 50}), ("use two hundred epochs", {"epochs": 200})),
        lambda c: f"set the epochs (at most) to {c['epochs']:,}",
        pages=MODEL_PAGES,
    ),
    Command(
        "horizon",
        "set the horizon H in days",
        (
            "{set} [the] [prediction] (horizon|h) [{to}] <days> [days]",
            "(horizon|h) [{to}] <days> [days]",
            "{use} [a] <days> day horizon",
            "predict [the] next <days> days",
        ),
        (
            ("set the horizon to ninety days", {"days": 90}),
            ("predict the next thirty days", {"days": 30}),
        ),
        lambda c: f"set the horizon H to {_plural(c['days'], 'day')}",
        values={
            "days": Value("number", HORIZON, lambda r: r.choice((7, 14, 30, 60, 90, 180, 365)))
        },
        pages=MODEL_PAGES,
    ),
    Command(
        "top_k",
        "set how many products each list shows (k)",
        (
            "{show} [the] top <k> [products|items|recommendations]",
            "top <k> [products|items|recommendations]",
            "{set} k [{to}] <k>",
            "k [{to}] <k>",
            "{set} [the] list length [{to}] <k>",
            "{show} <k> (products|items|recommendations) [per list|per user]",
        ),
        (("show the top five", {"k": 5}), ("set k to twenty", {"k": 20})),
        lambda c: f"set k, the products per list, to {c['k']:,}",
        pages=("recommendations",),
    ),
    Command(
        "train",
        "press Train on this page (after a confirmation)",
        (
            "{train} [the] [model|models|network|networks|recommender|ranker|it]",
            "{start} [the] training",
            "{start} to train",
            "press train",
        ),
        (("train the model", {}), ("start training", {}), ("begin training", {})),
        lambda c: "press Train",
        pages=MODEL_PAGES,
    ),
    Command(
        "stop",
        "stop this session's training (after a confirmation)",
        (
            "stop [the] [training|train|sweep|model|it]",
            "{stop} [the] (training|sweep)",
        ),
        (("stop training", {}), ("cancel the training", {})),
        lambda c: "stop the training",
    ),
    Command(
        "show_user",
        "show one customer's recommendations",
        (
            "[{show}] [the] (recommendations|recs|products) for [the] {user} <user>",
            "{show} [the] {user} <user>",
            "(find|pick|select|choose|open|look up) [the] {user} <user>",
            "{user} <user>",
        ),
        (
            (
                "show recommendations for user twelve thousand seven hundred forty eight",
                {"user": "12748"},
            ),
            ("show user one four six zero six", {"user": "14606"}),
            ("recommendations for user three two nine", {"user": "329"}),
            ("pick customer u00329", {"user": "u00329"}),
        ),
        lambda c: f"show the recommendations for user {c['user']}",
        pages=("recommendations",),
    ),
    Command(
        "compare_runs",
        "compare the newest runs on the Runs page",
        (
            "compare [the] [{last}] <count> runs",
            "compare [the] <count> {last} runs",
            "{show} [the] {last} <count> runs",
            ("compare [the] [{last}] runs", {"count": 2}),
        ),
        (("compare the last two runs", {"count": 2}), ("compare the 3 latest runs", {"count": 3})),
        lambda c: f"compare the newest {_plural(c['count'], 'run')} on the Runs page",
        pages=("runs",),
    ),
    Command(
        "report",
        "make the HTML report of the selected runs",
        (
            "{make} [a|the] [html] report",
            "{make} [a|the] [html] report (of|for|on) [the] [selected|these|{last}] (runs|run)",
            "[html] report",
            "download [a|the] [html] report",
        ),
        (("make a report", {}), ("create the report", {}), ("build a report", {})),
        lambda c: "make the report of the selected runs",
        pages=("runs",),
    ),
)
COMMANDS_BY_INTENT: Final = {command.intent: command for command in COMMANDS}


def examples() -> list[tuple[str, dict[str, Any]]]:
    """Every command's examples, each with the JSON it must give (``{"intent": ..., **values}``),
    in the spec's order."""
    return [
        (said, {"intent": command.intent, **values})
        for command in COMMANDS
        for said, values in command.examples
    ]
