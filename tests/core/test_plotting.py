"""The shared chart helpers: long category labels wrap whole, bar charts grow with them, and
every axis makes room for its labels."""

import plotly.graph_objects as go
import pytest

from core.plotting import bar_chart_height, score_bars, tidy, wrap_label


@pytest.mark.parametrize(
    ("label", "wrapped"),
    [
        ("MLP (neural network)", "MLP (neural network)"),
        ("Linear / logistic regression", "Linear / logistic<br>regression"),
        ("Own past order rate × H", "Own past order<br>rate × H"),
        ("Popular in the user's categories", "Popular in the<br>user's categories"),
    ],
)
def test_long_labels_wrap_at_spaces_into_lines_of_similar_length(label, wrapped):
    assert wrap_label(label) == wrapped
    assert wrap_label(label).replace("<br>", " ") == label


def test_a_word_longer_than_a_line_stays_whole():
    word = "bgnbd_expected_orders_over_the_horizon"
    assert wrap_label(word) == word
    assert wrap_label(f"{word} now", width=10) == f"{word}<br>now"


def test_a_bar_chart_grows_when_its_labels_take_more_lines():
    one_line = bar_chart_height(["a", "b", "c"], base=80, per_bar=26)
    assert one_line == 80 + 3 * 26
    two_lines = bar_chart_height(["a", "b<br>c", "d"], base=80, per_bar=26)
    assert two_lines > one_line and (two_lines - 80) / 3 >= 2 * 14
    assert bar_chart_height(["a<br>b"], base=60, per_bar=45) == 60 + 45


def test_score_bars_keep_every_name_whole_and_highlight_the_chosen_ones():
    names = ["MLP (neural network)", "Linear / logistic regression", "Mean"]
    fig = score_bars(
        names,
        [0.5, 0.25, 0.75],
        highlighted=[True, False, False],
        text=["0.500", "0.250", "0.750"],
        title="t",
        axis_title="x",
    )
    bar = fig.data[0]
    assert [str(y).replace("<br>", " ") for y in bar.y] == names
    assert bar.marker.color[0] != bar.marker.color[1] == bar.marker.color[2]
    assert fig.layout.yaxis.automargin is True and fig.layout.xaxis.automargin is True


def test_tidy_makes_every_axis_of_every_subplot_make_room_for_its_labels():
    fig = go.Figure().set_subplots(rows=2, cols=1)
    tidy(fig)
    assert fig.layout.xaxis.automargin is True and fig.layout.xaxis2.automargin is True
    assert fig.layout.yaxis.automargin is True and fig.layout.yaxis2.automargin is True
