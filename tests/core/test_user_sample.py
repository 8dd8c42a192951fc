"""Purchase prediction on a random sample of the users: the sample keeps exactly the drawn
users' events, the same seed draws the same users, every table holds only them (with the dates
of the whole data), a warning names the counts, and a saved run reopens on the same users."""

from __future__ import annotations

import pandas as pd
import pytest

from core import purchase, services
from core.errors import CutoffError
from core.ml.network import NetworkConfig
from core.params import SettingError
from core.purchase import features as feat
from core.runs import RunStore
from core.schema import PURCHASE, USER_ID, VIEW
from tests.frames import make_events

H = 7
USERS = ["u1", "u2", "u3", "u4", "u5", "u6"]


def _rows() -> list[tuple]:
    """Six users, each with two purchases and a view (user k on days k, 20 + k and 30 + k);
    u6 has the last event of the data, on 2024-02-29."""
    rows = []
    for k, user in enumerate(USERS, start=1):
        rows.append((user, "p1", PURCHASE, f"2024-01-{k:02d} 10:00"))
        rows.append((user, "p2", VIEW, f"2024-01-{20 + k:02d} 10:00"))
        rows.append((user, "p2", PURCHASE, f"2024-01-{25 + k:02d} 11:00"))
        rows.append((user, "p1", PURCHASE, f"2024-02-{10 + k:02d} 12:00"))
    rows.append(("u6", "p1", VIEW, "2024-02-29 09:00"))
    return rows


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return make_events(_rows())


def _users(table: pd.DataFrame) -> set[str]:
    return set(table.index.astype(str))


def test_a_sample_of_3_of_6_users_keeps_exactly_their_events(events):
    sampled, drawn, total = feat.draw_users(events, 3, random_state=0)
    assert (drawn, total) == (3, 6)
    kept = set(sampled[USER_ID].astype(str))
    assert len(kept) == 3 and kept <= set(USERS)
    expected = events[events[USER_ID].astype(str).isin(kept)]
    assert len(sampled) == len(expected) == 4 * 3 + ("u6" in kept)
    pd.testing.assert_frame_equal(
        sampled.astype({USER_ID: str}), expected.astype({USER_ID: str}), check_index_type=False
    )
    # The users not drawn are gone from the user column, not left as empty categories.
    assert sorted(sampled[USER_ID].cat.categories) == sorted(kept)


def test_the_same_seed_draws_the_same_users_and_other_seeds_others(events):
    def drawn(seed: int) -> frozenset[str]:
        return frozenset(feat.draw_users(events, 3, random_state=seed)[0][USER_ID].astype(str))

    assert drawn(0) == drawn(0)
    assert len({drawn(seed) for seed in range(10)}) > 1


@pytest.mark.parametrize("max_users", [6, 7, None])
def test_no_sample_is_drawn_when_the_data_has_max_users_or_fewer(events, max_users):
    sampled, drawn, total = feat.draw_users(events, max_users, random_state=0)
    assert sampled is events and (drawn, total) == (6, 6)
    data = purchase.build_purchase_data(events, horizon_days=H, max_users=max_users)
    assert not data.user_sample.sampled and data.user_sample.limit is None
    assert _users(data.evaluation) == set(USERS)
    assert not any("random" in w for w in data.warnings)


def test_every_table_holds_only_the_sampled_users_with_their_own_features(events):
    full = purchase.build_purchase_data(events, horizon_days=H)
    data = purchase.build_purchase_data(events, horizon_days=H, max_users=3, random_state=4)
    kept = set(feat.draw_users(events, 3, random_state=4)[0][USER_ID].astype(str))
    assert data.user_sample == purchase.UserSample(3, 3, 6, 4)
    assert data.user_sample.limit == 3
    assert _users(data.evaluation) == _users(data.deployment) == kept
    assert _users(data.train) <= kept
    # The dates come from the whole data, whoever was drawn (u6 has the last event).
    assert (data.cutoff, data.data_end, data.windows) == (full.cutoff, full.data_end, full.windows)
    # Each user's own features are those of the whole data (BG/NBD is fitted on the sample).
    own = [c for c in data.feature_names if c != purchase.BGNBD_EXPECTED]
    pd.testing.assert_frame_equal(
        data.evaluation[own].sort_index(), full.evaluation.loc[sorted(kept), own]
    )
    assert data.evaluation[purchase.ACTUAL_ORDERS].sum() == pytest.approx(
        full.evaluation.loc[sorted(kept), purchase.ACTUAL_ORDERS].sum()
    )


def test_the_warning_names_how_many_users_of_how_many(events):
    data = purchase.build_purchase_data(events, horizon_days=H, max_users=3)
    assert data.warnings[0] == (
        "Trained and scored on a random 3 of the 6 users, as Users to train on asks; "
        "predictions are for them only. To use every user, set Users to train on to 6 or "
        "more (on the command line, leave out --max-users)."
    )


def test_a_sample_without_any_purchase_says_so_in_one_line():
    rows = [("u1", "p1", PURCHASE, "2024-01-01"), ("u1", "p1", PURCHASE, "2024-02-01")]
    rows += [(f"v{k}", "p1", VIEW, f"2024-01-{k + 1:02d}") for k in range(5)]
    events = make_events(rows)
    seed = next(
        s
        for s in range(50)
        if "u1" not in set(feat.draw_users(events, 1, random_state=s)[0][USER_ID].astype(str))
    )
    with pytest.raises(CutoffError, match=r"^None of the 1 users drawn at random of 6 has a"):
        purchase.build_purchase_data(events, horizon_days=H, max_users=1, random_state=seed)


# --- the settings and the service ------------------------------------------------------------

TINY = NetworkConfig(hidden_layers=(4,), epochs=2, batch_size=64, random_state=3)


@pytest.mark.parametrize("max_users", [0, 99, 100_000_001, 1.5, "100"])
def test_users_to_train_on_outside_100_to_100_million_is_refused(max_users):
    with pytest.raises(SettingError, match=r"^Users to train on must be a whole number from 100"):
        services.PurchaseSettings(max_users=max_users)


def test_every_user_is_the_default_of_the_settings():
    assert services.PurchaseSettings().max_users is None


def test_a_run_trained_on_a_sample_reopens_on_the_same_users(small_shop, tmp_path):
    store = RunStore(tmp_path / "runs")
    settings = services.PurchaseSettings(TINY, 30, max_users=100)
    result = services.train_purchase(small_shop, settings, store)
    sample = result.data.user_sample
    assert (sample.drawn, sample.total, sample.random_state) == (100, 300, 3)
    assert len(result.data.evaluation) <= 100 and len(result.next_orders) <= 100
    assert any("random 100 of the 300 users" in w for w in result.warnings)
    loaded = store.load(result.run_id)
    config = loaded.manifest.config
    assert (config.max_users, config.sample_seed) == (100, 3)
    assert any("random 100 of the 300 users" in w for w in loaded.manifest.details.warnings)
    # Tables of another sample (every user) are not reused: the run rebuilds its own.
    every = services.prepare_purchase(small_shop, services.PurchaseSettings(TINY, 30))
    reopened = services.open_purchase_run(loaded, small_shop, data=every)
    assert _users(reopened.data.evaluation) == _users(result.data.evaluation)
    pd.testing.assert_frame_equal(reopened.evaluation.scores, result.evaluation.scores)


def test_a_sweep_run_reopens_on_the_users_of_the_sweeps_first_seed(small_shop, tmp_path):
    """A sweep's runs share tables drawn with its first seed; each remembers that seed."""
    store = RunStore(tmp_path / "runs")
    base = services.PurchaseSettings(TINY, 30, max_users=100)
    data = services.prepare_purchase(small_shop, base)
    other_seed = services.PurchaseSettings(
        NetworkConfig(hidden_layers=(4,), epochs=2, batch_size=64, random_state=8), 30, None, 100
    )
    result = services.train_purchase(small_shop, other_seed, store, data=data)
    config = store.load(result.run_id).manifest.config
    assert (config.network.random_state, config.sample_seed) == (8, 3)
    reopened = services.open_purchase_run(store.load(result.run_id), small_shop)
    assert _users(reopened.data.evaluation) == _users(data.evaluation)
    pd.testing.assert_frame_equal(reopened.evaluation.scores, result.evaluation.scores)
