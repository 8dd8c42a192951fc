"""The shared array helpers."""

import numpy as np

from core.ml.arrays import distinct


def test_distinct_gives_each_value_once_ascending():
    assert distinct(np.array([5, 3, 5, -1, 3, 9], dtype=np.int64)).tolist() == [-1, 3, 5, 9]
    assert distinct(np.array([], dtype=np.int64)).tolist() == []
    keys = np.random.default_rng(0).integers(0, 10**12, 50_000)
    assert np.array_equal(distinct(np.concatenate([keys, keys[:100]])), np.unique(keys))
