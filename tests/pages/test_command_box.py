"""The command box in the sidebar of every page, with Streamlit's AppTest: a typed command is
heard, said back as plain text, and acts on its page (switching there when it belongs to
another); Train and Stop wait for a Confirm, a filter change can be undone."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from core.commands import COMMANDS, PAGES
from core.data.loading import load_shop
from core.runs import RunStore
from tests.pages.apptest import (
    APP,
    HOME,
    OVERVIEW,
    PURCHASE,
    RECOMMENDATIONS,
    ROOT,
    inside_app,
    page_test,
    train_recommender,
)
from tests.records import stub_record
from ui import commands, jobs, navigation, recommendations, runs, state, trainer, untrusted


def _open(script: str = HOME, **options) -> AppTest:
    """The app on ``script``, run once through app.py."""
    if script == HOME:
        return page_test(APP, **options).run()
    return page_test(script, through_app=True, **options).run()


def say(at: AppTest, text: str) -> AppTest:
    """Type ``text`` in the sidebar's command box and press Enter."""
    if not any(t.key == commands.BOX for t in at.sidebar.text_input):
        inside_app(at).run()  # the last run was the page's alone (see inside_app)
    return inside_app(at).sidebar.text_input(key=commands.BOX).input(text).run()


def press(at: AppTest, key: str) -> AppTest:
    """Press a button of the command box."""
    return inside_app(at).sidebar.button(key=key).click().run()


def heard_md(at: AppTest) -> str:
    """What the box says it heard and did, as the Markdown it shows."""
    shown = [*at.sidebar.success, *at.sidebar.warning, *at.sidebar.info]
    assert len(shown) == 1, [s.value for s in shown]
    return shown[0].value


def heard(at: AppTest) -> str:
    """What the box says it heard and did, as read on the screen."""
    return re.sub(r"\\(.)", r"\1", heard_md(at)).replace(untrusted.WORD_JOINER, "")


def title(at: AppTest) -> str:
    return at.title[0].value


def _fingerprint(at: AppTest) -> str:
    return at.session_state[state.SHOP].fingerprint


def _categories(at: AppTest) -> list[str]:
    key = state.overview_key(_fingerprint(at), state.OVERVIEW_CATEGORIES)
    return at.multiselect(key=key).value


# --- the spec and the app -------------------------------------------------------------------------


def test_every_command_has_an_action_and_every_page_a_script():
    assert set(commands.ACTIONS) == {c.intent for c in COMMANDS}
    assert list(navigation.SCRIPTS) == [p.key for p in PAGES]
    for script, _ in navigation.SCRIPTS.values():
        assert (ROOT / script).is_file(), script


# --- on every page; going places ------------------------------------------------------------------


def test_go_to_runs_switches_page_and_says_what_it_heard():
    at = say(_open(), "Please go to the runs page")
    assert not at.exception
    assert title(at) == "Runs"
    assert heard(at) == "Heard: “Please go to the runs page” → open the Runs page"
    assert at.sidebar.text_input(key=commands.BOX).value == ""  # ready for the next one
    at = say(at, "open the overview")
    assert not at.exception and title(at) == "Shop overview"


def test_what_was_heard_is_shown_as_plain_text():
    typed = "**go** to [runs](https://evil.example) <img src=x>"
    at = say(_open(), typed)
    assert not at.exception
    shown = heard_md(at)
    assert "\\*\\*go\\*\\*" in shown and "\\[runs\\]" in shown and "\\<img" in shown
    assert heard(at) == f"Heard: “{typed}” → not a command. Did you mean: “go to runs”?"


def test_an_unknown_command_gets_the_nearest_one():
    at = say(_open(), "trian the modle")
    assert not at.exception and title(at) == "ShopLens"
    assert heard(at).endswith("not a command. Did you mean: “train the model”?")


def test_help_lists_what_the_page_understands():
    at = say(_open(OVERVIEW), "what can I say")
    assert not at.exception
    assert heard(at).endswith("what you can say on the Overview page:")
    lines = [c.value for c in at.sidebar.caption]
    assert any("filter category shoes" in line for line in lines)
    assert any(line.startswith("On Purchase prediction or Recommendations") for line in lines)


def test_a_model_form_command_on_another_page_says_where_it_works():
    at = say(_open(), "set epochs to fifty")
    assert not at.exception and title(at) == "ShopLens"
    assert "works on the Purchase prediction or Recommendations page" in heard(at)
    assert state.PURCHASE_EPOCHS not in at.session_state


def test_an_out_of_range_value_is_refused_in_one_line():
    at = say(_open(PURCHASE), "set epochs to five thousand")
    assert not at.exception
    assert heard(at).endswith("Epochs must be a whole number from 1 to 2,000 (got 5000).")
    assert at.number_input(key=state.PURCHASE_EPOCHS).value != 5000


def test_loading_the_sample_replaces_other_data(small_shop, sample_shop):
    at = _open(session={state.SHOP: small_shop, "recs.result": "trained on the small shop"})
    at = say(at, "load the sample shop")
    assert not at.exception
    assert _fingerprint(at) == sample_shop.fingerprint
    assert "recs.result" not in at.session_state
    cleared = "loaded the sample shop (models trained on the previous data were cleared)"
    assert heard(at).endswith(cleared)


def test_typing_a_command_does_not_load_the_sample_by_itself():
    at = say(_open(), "stop training")
    assert title(at) == "ShopLens"
    assert state.SHOP not in at.session_state


# --- the Overview's filters -----------------------------------------------------------------------


def test_a_category_filter_said_on_home_filters_the_overview_and_can_be_undone():
    at = say(_open(), "filter category garden")
    assert not at.exception
    assert title(at) == "Shop overview"
    assert _categories(at) == ["Garden"]
    assert heard(at).endswith("filter the Overview to category Garden")
    at = press(at, commands.UNDO)
    assert not at.exception
    assert _categories(at) == []
    assert heard(at).endswith("undone: the filters are as before.")


def test_the_period_and_clearing_the_filters():
    at = say(_open(OVERVIEW), "show only the Toys category")
    assert _categories(at) == ["Toys"]
    at = say(at, "show the last seven days")
    dates = at.date_input(key=state.overview_key(_fingerprint(at), state.OVERVIEW_DATES)).value
    assert (dates[1] - dates[0]).days == 6
    assert _categories(at) == ["Toys"]  # the other filters stay
    at = say(at, "clear the filters")
    assert not at.exception and _categories(at) == []
    at = press(at, commands.UNDO)
    assert _categories(at) == ["Toys"]


# --- the model pages ------------------------------------------------------------------------------


def test_hidden_layers_epochs_and_horizon_fill_the_purchase_form():
    at = say(_open(PURCHASE), "set hidden layers to sixty four thirty two")
    assert not at.exception
    assert at.text_input(key=state.PURCHASE_LAYERS_TEXT).value == "64,32"
    assert [at.number_input(key=state.layer_key(i)).value for i in (0, 1)] == [64, 32]
    assert heard(at).endswith("set the hidden layers to 64,32 on Purchase prediction")
    at = say(at, "use two hundred epochs")
    assert at.number_input(key=state.PURCHASE_EPOCHS).value == 200
    cutoff = at.date_input(key=state.PURCHASE_CUTOFF).value
    at = say(at, "set the horizon to sixty days")
    assert not at.exception and not at.error
    assert at.number_input(key=state.PURCHASE_HORIZON).value == 60
    assert (cutoff - at.date_input(key=state.PURCHASE_CUTOFF).value).days == 30  # it follows


def test_layers_and_k_fill_the_recommendations_form():
    at = say(_open(RECOMMENDATIONS), "layers 32 16 8")
    assert not at.exception
    assert at.text_input(key=state.RECS_LAYERS_TEXT).value == "32,16,8"
    at = say(at, "show the top twenty")
    assert at.radio(key=state.RECS_K).value == 20
    at = say(at, "set k to seven")
    assert heard(at).endswith("k on the Recommendations page is 5, 10 or 20 (got 7).")
    assert at.radio(key=state.RECS_K).value == 20


def test_train_asks_for_a_confirmation_and_cancel_trains_nothing(small_shop):
    at = say(_open(PURCHASE, session={state.SHOP: small_shop}), "train the model")
    assert not at.exception
    assert heard(at).endswith("press Train on Purchase prediction? Confirm or Cancel.")
    assert at.sidebar.button(key=commands.CONFIRM) and at.sidebar.button(key=commands.CANCEL)
    assert not trainer.running_jobs()
    assert state.PURCHASE_TRAIN_PRESSED not in at.session_state
    at = press(at, commands.CANCEL)
    assert not at.exception
    assert heard(at).endswith("cancelled; nothing was done.")
    assert state.PURCHASE_RESULT not in at.session_state


@pytest.mark.slow
def test_confirming_train_presses_the_pages_train(small_shop, runs_dir):
    at = _open(PURCHASE, session={state.SHOP: small_shop})
    at = say(say(at, "set hidden layers to eight"), "set epochs to two")
    at = press(say(at, "start training"), commands.CONFIRM)
    assert not at.exception, at.exception
    result = at.session_state[state.PURCHASE_RESULT]
    assert result.models.epochs_run[0] <= 2
    assert [i.run_id for i in RunStore(runs_dir).runs()] == [result.run_id]


def test_stop_asks_for_a_confirmation_then_stops_this_sessions_training():
    job = trainer.TrainingJob("test-command-stop", "purchase", "8 seed 0")
    jobs._JOBS[job.job_id] = job
    try:
        at = _open(session={jobs.session_key("purchase"): job.job_id})
        at = say(at, "stop training")
        assert not at.exception
        assert "stop the training on Purchase prediction" in heard(at)
        assert not job.stopping
        at = press(at, commands.CONFIRM)
        assert not at.exception and job.stopping
        assert "asked the training to stop" in heard(at)
    finally:
        job._done.set()
        jobs._JOBS.pop(job.job_id, None)


def test_stop_without_a_training_says_so():
    at = say(_open(), "stop the training")
    assert heard(at).endswith("no training of yours is running.")


# --- users and runs -------------------------------------------------------------------------------


def test_a_user_said_by_its_digits_is_selected_in_the_recommendations_browser():
    at = say(_open(), "show user three two nine")
    assert not at.exception
    assert title(at) == "Recommendations"
    assert at.session_state[state.RECS_USER_SOURCE] == recommendations.TYPE
    assert at.session_state[state.RECS_USER_SEARCH] == "u00329"
    assert "show the recommendations for user u00329" in heard(at)


def test_an_unknown_user_gets_the_nearest_ids():
    at = say(_open(), "show user 99999")
    assert not at.exception and title(at) == "ShopLens"
    assert heard(at).endswith("no user 99999 in this data; try one of these:")
    captions = [c.value for c in at.sidebar.caption]
    assert captions[-5:] == ["u04999", "u04998", "u04997", "u04996", "u04995"]


def test_an_unknown_user_id_without_digits_is_not_said_to_match_several(tmp_path):
    events = tmp_path / "events.csv"
    events.write_text(
        "user_id,item_id,event_type,timestamp\n"
        "alice,i1,view,2024-01-01 10:00:00\n"
        "alina,i2,purchase,2024-01-02 11:00:00\n",
        encoding="utf-8",
    )
    at = say(_open(session={state.SHOP: load_shop(events)}), "pick customer alicia")
    assert not at.exception
    assert heard(at).endswith("no user alicia in this data; try one of these:")
    assert {c.value for c in at.sidebar.caption} >= {"alice", "alina"}


@pytest.mark.slow
def test_the_selected_user_is_shown_with_their_recommendations(small_shop):
    at = train_recommender(_open(RECOMMENDATIONS, session={state.SHOP: small_shop}), epochs=2)
    assert state.RECS_RESULT in at.session_state
    user = str(small_shop.events.frame["user_id"].iloc[0])
    digits = " ".join("zero one two three four five six seven eight nine".split()[int(d)]
                      for d in user if d.isdigit())  # fmt: skip
    at = say(at, f"show recommendations for customer {digits}")
    assert not at.exception
    assert at.radio(key=state.RECS_USER_SOURCE).value == recommendations.TYPE
    assert at.text_input(key=state.RECS_USER_SEARCH).value == user
    assert any(m.value.startswith("**Top 10 recommendations**") for m in at.markdown)


def _stubs(runs_dir, shop, count: int) -> list[str]:
    store = RunStore(runs_dir)
    for n in range(count):
        store.save(stub_record("recommend", curves={}, evaluate=False), shop, name=f"run {n}")
    return [i.run_id for i in store.runs()]


def test_compare_the_last_two_runs_selects_them_on_the_runs_page(runs_dir, small_shop):
    newest_first = _stubs(runs_dir, small_shop, 3)
    at = say(_open(), "compare the last two runs")
    assert not at.exception
    assert title(at) == "Runs"
    assert at.session_state[runs.SELECTED] == newest_first[:2]
    assert any(h.value == "2 runs selected" for h in at.subheader)


def test_make_a_report_selects_the_newest_run_and_points_at_the_report(runs_dir, small_shop):
    newest_first = _stubs(runs_dir, small_shop, 2)
    at = say(_open(), "make a report")
    assert not at.exception and title(at) == "Runs"
    assert at.session_state[runs.SELECTED] == newest_first[:1]
    assert any("Report of 1 run (HTML)" in s.value for s in at.success)
    assert at.get("download_button")


def test_compare_without_runs_says_so():
    at = say(_open(), "compare runs")
    assert title(at) == "ShopLens"
    assert heard(at).endswith("no runs are saved yet: train a model first.")
