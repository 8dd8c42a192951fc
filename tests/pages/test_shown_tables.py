"""What a Recommendations table shows: a column the data never fills is left out, missing text
is a dash."""

import numpy as np
import pandas as pd

from ui.recommendations import _shown
from ui.widgets import MISSING


def test_a_column_the_data_never_fills_is_left_out_and_missing_text_is_a_dash():
    recs = pd.DataFrame(
        {
            "rank": [1, 2],
            "name": ["LUNCH BAG", None],
            "category": [None, None],  # an orders export without categories
            "price": [1.65, np.nan],
        }
    )
    shown = _shown(recs)
    assert list(shown.columns) == ["rank", "name", "price"]
    assert shown["name"].tolist() == ["LUNCH BAG", MISSING]
    assert _shown(recs.iloc[:0]).columns.tolist() == recs.columns.tolist()  # nothing to judge
