"""The HTML report of saved runs: its sections, scoreboards that match the manifests, escaped
names from the data, nothing fetched from outside the file, one-line errors, and the command."""

from __future__ import annotations

import hashlib
import html
import io
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import plotly.io as pio
import pytest
from PIL import Image

from core import purchase, recommend, schema, services
from core.__main__ import main
from core.data.loading import ShopData, fingerprint_frames, load_shop, with_photos
from core.data.photos import Photo, PhotoSet
from core.ml import metrics as m
from core.ml.network import NetworkConfig
from core.ml.timesplit import data_end_of
from core.overview.charts import STEP_LABELS
from core.report import ReportError, build_report
from core.runs import MANIFEST, RunIntegrityError, RunNotFoundError, RunStore, versus_baselines
from core.runs.compare import beats_baselines
from core.runs.tasks import purchase_run_record, recommender_run_record
from tests.frames import small_shop_frames, write_shop
from tests.report_figures import as_in_the_app, category_labels, figures_in

pytestmark = pytest.mark.slow  # every report here is of runs trained for real

CONFIG = NetworkConfig(hidden_layers=(8,), epochs=4, batch_size=64, random_state=0)
PAYLOAD = "<img src=x onerror=alert(1)>"
EVENTS_FILE = "shop & <b>sales.csv"
RUN_NAME = "Prévision été 北京 (v2)"
CUTOFF = pd.Timestamp("2026-10-02")
K = 5


class _Tables(HTMLParser):
    """Every table's cells (header row first) by table id, and every tag's attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self._table = dict(attrs).get("id") or f"table-{len(self.tables)}"
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._table and self._cell is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _parse(document: str) -> _Tables:
    parser = _Tables()
    parser.feed(document)
    return parser


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> ShopData:
    events, products = small_shop_frames()
    products["name"] = PAYLOAD  # names in shop data are untrusted
    folder = tmp_path_factory.mktemp("shop")
    return load_shop(*write_shop(folder, events, products, events_file=EVENTS_FILE))


@pytest.fixture(scope="module")
def saved(tmp_path_factory, shop) -> tuple[RunStore, str, str]:
    """A store holding one purchase run and one recommendations run on ``shop``."""
    store = RunStore(tmp_path_factory.mktemp("report") / "runs")
    events, products = shop.events.frame, shop.products.frame
    data = purchase.build_purchase_data(events, products, cutoff=CUTOFF, horizon_days=30)
    models = purchase.train_purchase_models(data, CONFIG)
    evaluation = purchase.evaluate_purchase_models(models, data, importance_rows=200)
    purchase_id = store.save(
        purchase_run_record(models, evaluation, data),
        shop,
        name=RUN_NAME,
        tags=("q4",),
    )
    config = recommend.RecommenderConfig(network=CONFIG, candidates=20, negatives=10)
    fitted, scored = recommend.evaluate_recommender(
        events, products, cutoff=CUTOFF, horizon_days=30, k=K, config=config
    )
    record = recommender_run_record(
        fitted, scored, cutoff=CUTOFF, horizon_days=30, k=K, stopped=False
    )
    return store, purchase_id, store.save(record, shop)


@pytest.fixture(scope="module")
def document(saved) -> str:
    store, purchase_id, recommend_id = saved
    return build_report(store, [purchase_id, recommend_id], title="Q4 <review> & notes")


def test_the_report_has_the_data_and_every_run_with_its_sections(saved, document):
    _, purchase_id, recommend_id = saved
    assert document.startswith("<!DOCTYPE html>")
    for anchor in (f'id="run-{purchase_id}"', f'id="run-{recommend_id}"', 'id="data-'):
        assert document.count(anchor) == 1
    purchase_part, recommend_part = document.split(f'id="run-{recommend_id}"')
    purchase_part = purchase_part.split(f'id="run-{purchase_id}"')[1]
    assert "The shop at a glance" in document and "Active users" in document
    for heading in (
        "Configuration",
        "Scoreboard: the MLP against every baseline",
        "Training curves",
        "What the orders network relies on",
    ):
        assert f"<h3>{heading}</h3>" in purchase_part
    for heading in ("Configuration", "Training curves", "Metrics against k", "Example users"):
        assert f"<h3>{heading}</h3>" in recommend_part
    assert "Metrics against k" not in purchase_part
    rows = [row for table in _parse(purchase_part).tables.values() for row in table]
    assert ["Users to train on", "every user"] in rows
    assert "What the orders network relies on" not in recommend_part
    # Three example users, each with their top k and a reason for every product.
    tables = _parse(recommend_part).tables.values()
    tables = [t for t in tables if t and t[0][:3] == ["#", "product", "why"]]
    assert len(tables) == 3
    for table in tables:
        assert len(table) == 1 + K and all(row[2] for row in table[1:])
    # Charts: two bar charts, two curve charts and the importance for the purchase run; a bar
    # chart, the ranker's curves and metric-vs-k for the recommender; the data's funnel.
    assert document.count('class="plotly-graph-div"') == 9
    assert document.count("How to read:") == 9


def test_the_scoreboard_shows_the_manifests_numbers(saved, document):
    store, purchase_id, recommend_id = saved
    tables = _parse(document).tables
    checks = [
        (purchase_id, f"orders-{purchase_id}", m.ORDER_SCORES, purchase.MODEL_LABELS),
        (purchase_id, f"buyers-{purchase_id}", m.BUYER_SCORES, purchase.MODEL_LABELS),
        (recommend_id, f"ranking-{recommend_id}", m.RANKING_SCORES, recommend.MODEL_LABELS),
    ]
    for run_id, table_id, columns, labels in checks:
        metrics = store.info(run_id).manifest.metrics
        header, *rows = tables[table_id]
        keys = {m.METRICS[key].header(): key for key in columns}
        keys |= {m.METRICS[key].header(K): key for key in columns}
        models = {label: name for name, label in labels.items()}
        assert header[0] == "model" and len(header) == 1 + len(columns)
        assert sorted(models[row[0]] for row in rows) == sorted(metrics)
        assert models[rows[0][0]] == "mlp"  # the MLP first, then the baselines
        for row in rows:
            for label, text in zip(header[1:], row[1:], strict=True):
                value = metrics[models[row[0]]][keys[label]]
                decimals = len(text.split(".")[1]) if "." in text else 0
                assert float(text.replace(",", "")) == pytest.approx(
                    value, abs=0.5 * 10**-decimals + 1e-9
                ), (table_id, row[0], label)


def test_each_scoreboard_says_which_headline_scores_the_mlp_wins_and_loses(saved, document):
    store, purchase_id, recommend_id = saved
    purchase_part, recommend_part = document.split(f'id="run-{recommend_id}"')
    for run_id, part in ((purchase_id, purchase_part), (recommend_id, recommend_part)):
        manifest = store.info(run_id).manifest
        verdict = versus_baselines(manifest)
        assert verdict  # every run here was scored
        lead = (
            "The MLP beats the baselines"
            if beats_baselines(manifest)
            else "The MLP does not beat the baselines on every headline score"
        )
        assert html.escape(f"{lead} (") in part
        assert html.escape(f"a tie is no win): it {verdict}.") in part
    assert "(NDCG@5, Recall@5, Hit rate@5; a tie is no win)" in recommend_part
    assert "(MSE, ROC-AUC, PR-AUC; a tie is no win)" in purchase_part


def test_names_from_the_data_and_the_manifests_are_escaped(saved, document):
    assert PAYLOAD not in document
    assert "<b>sales" not in document and "<review>" not in document
    assert html.escape(PAYLOAD) in document  # product names in the example users' lists
    assert html.escape(EVENTS_FILE) in document
    assert "Q4 &lt;review&gt; &amp; notes" in document
    assert f"<h2>{html.escape(RUN_NAME)}</h2>" in document
    assert '<span class="tag">q4</span>' in document
    # The only elements are the report's own: no image, frame or object from the data.
    tags = {tag for tag, _ in _parse(document).tags}
    assert not tags & {"img", "iframe", "object", "embed", "link", "base", "form"}


def test_the_report_refers_to_nothing_outside_the_file(document):
    parsed = _parse(document)
    for tag, attrs in parsed.tags:
        assert not (tag == "script" and attrs.get("src")), attrs
        for name in ("src", "href"):
            target = attrs.get(name) or ""
            assert not target.lower().startswith(("http:", "https:", "//")), (tag, attrs)
    assert "@import" not in document and "url(" not in document.split("<script")[0]
    scripts = [attrs for tag, attrs in parsed.tags if tag == "script"]
    assert document.count("Plotly.newPlot(") == 9
    # plotly.js is embedded exactly once, in the head.
    head = document.split("</head>")[0]
    assert head.count("<script") == 1 and len(head) > 1_000_000
    assert len(scripts) == 1 + 9


def test_no_runs_raise_a_report_error_with_one_line(saved):
    store, _, _ = saved
    with pytest.raises(ReportError, match="No runs") as err:
        build_report(store, [])
    assert "\n" not in str(err.value)


def test_an_unknown_run_raises_run_not_found_with_one_line(saved):
    store, purchase_id, _ = saved
    missing = "20200101-000000-purchase-00000000"
    with pytest.raises(RunNotFoundError, match=missing) as err:
        build_report(store, [purchase_id, missing])
    assert "\n" not in str(err.value)


def test_broken_runs_raise_one_line_naming_the_run(saved, tmp_path):
    store, purchase_id, _ = saved
    broken = RunStore(tmp_path / "runs")
    empty = broken.root / "20260101-000000-recommend-00000001"
    empty.mkdir(parents=True)
    with pytest.raises(RunIntegrityError, match=empty.name) as err:
        build_report(broken, [empty.name])
    assert "\n" not in str(err.value)
    shutil.copytree(store.path_of(purchase_id), broken.root / purchase_id)
    manifest_path = broken.root / purchase_id / MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    del manifest["curves"]["regressor"]
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(RunIntegrityError, match=f"Run {purchase_id} .*'curves'") as err:
        build_report(broken, [purchase_id])
    assert "\n" not in str(err.value)


def test_without_the_kept_data_the_report_says_so_and_still_shows_the_runs(saved, tmp_path):
    store, purchase_id, recommend_id = saved
    elsewhere = RunStore(tmp_path / "runs")
    for run_id in (purchase_id, recommend_id):
        shutil.copytree(store.path_of(run_id), elsewhere.root / run_id)
    document = build_report(elsewhere, [recommend_id, purchase_id])
    # Said once for the data and once where the example users would be.
    assert document.count("is not kept in the runs folder") == 2
    assert "Active users" not in document and html.escape(PAYLOAD) not in document
    assert f'id="ranking-{recommend_id}"' in document and f'id="orders-{purchase_id}"' in document
    assert document.index(f'id="run-{recommend_id}"') < document.index(f'id="run-{purchase_id}"')


def test_the_report_command_writes_the_file_and_prints_its_path(saved, tmp_path, capsys):
    store, purchase_id, recommend_id = saved
    out = tmp_path / "out" / "report.html"
    code = main(
        ["report", purchase_id, recommend_id, "--out", str(out), "--runs-dir", str(store.root)]
    )
    printed, err = capsys.readouterr()
    assert code == 0, err
    assert printed.strip() == str(out)
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and f'id="run-{recommend_id}"' in text
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]  # no temporary file left


def test_the_report_command_exits_2_with_one_line_for_an_unknown_run(saved, tmp_path, capsys):
    store, purchase_id, _ = saved
    out = tmp_path / "report.html"
    missing = "20200101-000000-recommend-00000000"
    code = main(["report", purchase_id, missing, "--out", str(out), "--runs-dir", str(store.root)])
    printed, err = capsys.readouterr()
    assert code == 2 and printed == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and missing in err
    assert not out.exists()


def test_the_report_command_uses_the_configured_runs_folder(saved, runs_dir, tmp_path, capsys):
    store, purchase_id, _ = saved
    shutil.copytree(store.path_of(purchase_id), Path(runs_dir) / purchase_id)
    out = tmp_path / "report.html"
    assert main(["report", purchase_id, "--out", str(out)]) == 0
    assert f'id="run-{purchase_id}"' in out.read_text(encoding="utf-8")
    capsys.readouterr()


def test_kept_data_with_a_deleted_file_leaves_a_note_instead_of_failing(saved, tmp_path):
    store, purchase_id, recommend_id = saved
    copy = RunStore(tmp_path / "runs")
    shutil.copytree(store.root, copy.root)
    fingerprint = copy.info(recommend_id).manifest.dataset.fingerprint
    (copy.root / "_datasets" / fingerprint / "events.parquet").unlink()
    document = build_report(copy, [purchase_id, recommend_id])
    assert "The kept data cannot be used" in document and "is damaged" in document
    assert f'id="ranking-{recommend_id}"' in document and f'id="orders-{purchase_id}"' in document


def test_a_recommender_trained_without_a_test_window_on_data_without_products_is_reported(
    shop, tmp_path
):
    store = RunStore(tmp_path / "runs")
    events_only = ShopData(shop.events, None, fingerprint_frames(shop.events.frame, None))
    end = data_end_of(shop.events.frame)
    config = recommend.RecommenderConfig(network=CONFIG, candidates=20, negatives=10)
    fitted = recommend.fit_recommender(
        shop.events.frame, None, cutoff=end, horizon_days=30, config=config
    )
    record = recommender_run_record(fitted, None, cutoff=end, horizon_days=30, k=K, stopped=False)
    document = build_report(store, [store.save(record, events_only)])
    assert "trained on all the data without a test window" in document
    assert "Products file</th><td>none" in document
    tables = [t for t in _parse(document).tables.values() if t and t[0][:2] == ["#", "product"]]
    assert tables and all(len(t) == 1 + K for t in tables)


def test_a_manifest_whose_feature_names_carry_markup_is_refused_with_one_line(saved, tmp_path):
    store, purchase_id, _ = saved
    other = RunStore(tmp_path / "runs")
    shutil.copytree(store.path_of(purchase_id), other.root / purchase_id)
    manifest_path = other.root / purchase_id / MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    link = "<a href='https://example.com'>click</a>"
    manifest["details"]["importance"]["feature"][0] = link
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(RunIntegrityError, match=f"Run {purchase_id} .*'details'") as err:
        build_report(other, [purchase_id])
    assert "\n" not in str(err.value) and "href" not in str(err.value)


# --- the figures, drawn as the reader sees them --------------------------------------------


def test_the_report_draws_with_its_own_template_inside_the_app_s_process(saved):
    store, purchase_id, recommend_id = saved
    with as_in_the_app():
        document = build_report(store, [purchase_id, recommend_id])
    assert not re.search(r"#0000(0[1-9]|[1-3][0-9]|40)\b", document)
    figures = figures_in(document)
    assert len(figures) == 9
    colours = list(pio.templates["plotly"].layout.colorway)
    for figure in figures:
        layout = figure["layout"]
        assert layout["template"]["layout"]["colorway"] == colours
        axes = [key for key in layout if re.fullmatch(r"[xy]axis\d*", key)]
        assert axes and all(layout[key]["automargin"] is True for key in axes), axes


def test_the_report_s_bar_labels_are_the_whole_names(saved, document):
    store, purchase_id, _ = saved
    labels = [category_labels(f) for f in figures_in(document)]
    purchase_models = [purchase.MODEL_LABELS[n] for n in purchase.MODEL_NAMES]
    recommend_models = [recommend.MODEL_LABELS[n] for n in (m.MLP, *recommend.BASELINES)]
    importance = store.info(purchase_id).manifest.details.importance
    features = [purchase.input_label(str(f)) for f in importance["feature"].head(15)]
    assert labels.count(purchase_models) == 2  # the MSE and ROC-AUC scoreboards
    assert labels.count(recommend_models) == 1
    assert labels.count(features) == 1


# --- data of orders alone, and a stopped run -----------------------------------------------


ORDERS_ONLY_NAME = "Orders only"


@pytest.fixture(scope="module")
def with_orders_only(tmp_path_factory, saved) -> tuple[RunStore, str, str]:
    """The runs of ``saved`` and a purchase run on the small shop's orders alone (no view or
    cart events), cut short by Stop after its first epoch."""
    store, purchase_id, _ = saved
    folder = tmp_path_factory.mktemp("orders-only")
    copy = RunStore(folder / "runs")
    shutil.copytree(store.root, copy.root)
    events, products = small_shop_frames()
    orders = events[events[schema.EVENT_TYPE] == schema.PURCHASE]
    shop = load_shop(*write_shop(folder, orders, products, events_file="orders.csv"))
    data = purchase.build_purchase_data(
        shop.events.frame, shop.products.frame, cutoff=CUTOFF, horizon_days=30
    )
    models = purchase.train_purchase_models(data, CONFIG, on_epoch=lambda progress: False)
    assert models.stopped
    evaluation = purchase.evaluate_purchase_models(models, data, importance_rows=200)
    record = purchase_run_record(models, evaluation, data)
    return copy, purchase_id, copy.save(record, shop, name=ORDERS_ONLY_NAME)


@pytest.fixture(scope="module")
def mixed_document(with_orders_only) -> str:
    store, purchase_id, stopped_id = with_orders_only
    return build_report(store, [purchase_id, stopped_id])


def _sections(document: str) -> dict[str, str]:
    """Each ``<section>`` of the report by its id."""
    found = re.findall(r'<section id="([^"]+)">(.*?)</section>', document, flags=re.DOTALL)
    return dict(found)


def test_orders_only_data_shows_a_one_line_note_instead_of_the_funnel(mixed_document):
    data = {k: v for k, v in _sections(mixed_document).items() if k.startswith("data-")}
    assert len(data) == 2
    (orders_only,) = [v for v in data.values() if "Events file</th><td>orders.csv" in v]
    (full,) = [v for v in data.values() if v is not orders_only]
    note = re.findall(r'<p class="note">([^<]*No funnel[^<]*)</p>', orders_only)
    assert note == [
        "No funnel: this data has no view or cart events, and a funnel needs at least two of "
        "the view, cart and purchase steps."
    ]
    assert "plotly-graph-div" not in orders_only and "Active users" in orders_only
    # The full data keeps its funnel chart, with every step.
    assert "No funnel" not in full and full.count('class="plotly-graph-div"') == 1
    (funnel,) = [f for f in figures_in(full) if f["data"][0]["type"] == "funnel"]
    assert category_labels(funnel) == [
        STEP_LABELS[s] for s in (schema.VIEW, schema.CART, schema.PURCHASE)
    ]
    # Five charts per purchase run and the full data's funnel: nothing else went missing.
    assert mixed_document.count('class="plotly-graph-div"') == 11


def test_a_stopped_run_is_marked_in_the_contents_its_heading_and_its_data(
    with_orders_only, mixed_document
):
    _, purchase_id, stopped_id = with_orders_only
    tag = '<span class="tag stopped">stopped</span>'
    contents = mixed_document.split("<nav>")[1].split("</nav>")[0]
    items = dict(re.findall(r'<li><a href="#run-([^"]+)">(.*?)</li>', contents))
    assert set(items) == {purchase_id, stopped_id}
    assert items[stopped_id] == f"{ORDERS_ONLY_NAME}</a> {tag} · Purchase prediction"
    assert tag not in items[purchase_id]
    sections = _sections(mixed_document)
    stopped, complete = sections[f"run-{stopped_id}"], sections[f"run-{purchase_id}"]
    assert stopped.startswith(f"<h2>{ORDERS_ONLY_NAME} {tag}</h2>")
    assert complete.startswith(f"<h2>{html.escape(RUN_NAME)}</h2>")
    assert "Stopped: training was cut short at epoch 1; the best epoch so far was kept." in stopped
    assert "Stopped" not in complete and tag not in complete
    # Nothing in the stopped run's section says that its training ran to its end.
    assert not re.search(r"\b(complete[ds]?|finish(ed|es)?|ran to)\b", stopped, flags=re.I)
    assert f"{ORDERS_ONLY_NAME} ({stopped_id}, stopped)" in mixed_document
    assert f"{html.escape(RUN_NAME)} ({purchase_id})" in mixed_document


def test_report_tables_leave_out_empty_columns_and_never_print_none():
    from core.report import _frame_table

    table = pd.DataFrame(
        {"product": ["LUNCH BAG", None], "category": [None, None], "price": [1.65, float("nan")]}
    )
    text = _frame_table(table, classes="recommendations")
    assert "category" not in text  # an orders export without categories
    assert "None" not in text and "nan" not in text
    assert text.count("<td>–</td>") == 2


def _photo_of(item_id: str) -> Photo:
    shade = int(hashlib.sha256(item_id.encode()).hexdigest()[:2], 16)
    image = Image.new("RGB", (24, 24), (shade, 255 - shade, 90))
    out = io.BytesIO()
    image.save(out, "JPEG")
    data = out.getvalue()
    return Photo(item_id, data, hashlib.sha256(data).hexdigest())


def test_recommended_products_show_their_photos_inside_the_file(shop, tmp_path):
    item_ids = shop.products.frame[schema.ITEM_ID].astype("str")
    pictured = with_photos(shop, PhotoSet(tuple(_photo_of(i) for i in item_ids[::2])))
    config = recommend.RecommenderConfig(network=CONFIG, candidates=20, negatives=10)
    settings = services.RecommendSettings(config, cutoff=CUTOFF, horizon_days=30, k=K)
    store = RunStore(tmp_path / "runs")
    result = services.train_recommender(pictured, settings, store)
    document = build_report(store, [result.run_id])
    parsed = _parse(document)
    images = [attrs for tag, attrs in parsed.tags if tag == "img"]
    assert images and all(
        str(attrs["src"]).startswith("data:image/jpeg;base64,") for attrs in images
    )
    # One thumbnail per recommended product that has a photo, in the photo column.
    examples = [
        rows for name, rows in parsed.tables.items() if rows and rows[0][:2] == ["#", "photo"]
    ]
    assert examples
    shown = sum(len(rows) - 1 for rows in examples)
    assert 0 < len(images) < shown  # half the products have no photo: an empty cell
    assert PAYLOAD not in document
