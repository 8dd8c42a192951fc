"""Shared fixtures."""

from pathlib import Path

import pytest

from core.config import load_settings
from core.data.loading import ShopData, load_shop, with_photos
from core.images.sample import read_sample_photos
from tests.frames import small_shop_frames, write_shop

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
# The browser harness, for tests/e2e and tests/hostile alike: one definition, so one browser.
pytest_plugins = ("tests.e2e.harness",)


@pytest.fixture
def shared_data() -> Path:
    """The shared public datasets; tests that need them skip when they are absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def runs_dir(tmp_path_factory, monkeypatch) -> Path:
    """Every test saves runs into its own temporary folder, never into the project's runs/."""
    folder = tmp_path_factory.mktemp("runs")
    monkeypatch.setenv("SHOPLENS_RUNS_DIR", str(folder))
    return folder


@pytest.fixture(scope="session")
def sample_shop() -> ShopData:
    """The bundled sample shop, loaded as the app loads it when nothing was uploaded: with its
    product photos."""
    settings = load_settings()
    shop = load_shop(settings.sample_events, settings.sample_products)
    return with_photos(shop, read_sample_photos(settings.sample_photos))


@pytest.fixture(scope="session")
def small_shop_files(tmp_path_factory) -> tuple[Path, Path]:
    """The small generated shop (``tests.frames.small_shop_frames``) as events.csv and
    products.csv, written once per session; tests only read them."""
    return write_shop(tmp_path_factory.mktemp("small-shop"), *small_shop_frames())


@pytest.fixture(scope="session")
def small_shop(small_shop_files) -> ShopData:
    """The small generated shop loaded from its files, as a user of the app would load it."""
    return load_shop(*small_shop_files)


@pytest.fixture(scope="session")
def spark_session():
    """One Spark session on ``local[2]`` for every Spark test (it takes seconds to start); the
    feature job uses the active session as it is."""
    from tests.cluster import require_cluster_package

    require_cluster_package("pyspark")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("ShopLens tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
