"""Slices merge by addition: any grouping of partial stores gives the same month."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from slastream.model.spec import DowntimeRule
from slastream.sli.slices import GOOD, TOTAL, WIDTH, SliceStore
from slastream.slo.downtime import DOWN, minute_states

deltas = st.lists(st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 50),
                            st.integers(0, 5), st.integers(0, 5)), max_size=60)


def _store(items: list[tuple[str, int, int, int]]) -> SliceStore:
    s = SliceStore()
    for scope, minute, good, bad in items:
        vec = [0.0] * WIDTH
        vec[GOOD], vec[TOTAL] = good, good + bad
        s.add("slo", scope, minute, vec)
    return s


@given(deltas, st.integers(0, 60), st.integers(0, 60))
def test_merge_is_associative_and_split_invariant(items: list[tuple[str, int, int, int]],
                                                  i: int, j: int) -> None:
    i, j = sorted((i % (len(items) + 1), j % (len(items) + 1)))
    whole = _store(items)
    left = _store(items[:i])
    left.merge(_store(items[i:j]))
    left.merge(_store(items[j:]))
    right = _store(items[j:])
    mid = _store(items[i:j])
    mid.merge(_store(items[:i]))
    right.merge(mid)
    assert whole.as_dict() == left.as_dict() == right.as_dict()


@given(deltas, st.integers(1, 10))
def test_trailing_window_is_the_sum_of_its_slices(items: list[tuple[str, int, int, int]],
                                                  window_min: int) -> None:
    store = _store([(scope, m, g, b) for scope, m, g, b in items if scope == "a"])
    matrix = store.matrix("slo", "a", 0, 51)
    rule = DowntimeRule(bad_below=0.5, window_s=60 * window_min, min_events=1)
    states, value = minute_states(matrix, rule)
    for m in range(51):
        rows = matrix[max(0, m - window_min + 1): m + 1]
        good, total = rows[:, GOOD].sum(), rows[:, TOTAL].sum()
        if total:
            assert np.isclose(value[m], good / total)
            assert (states[m] == DOWN) == (good / total < 0.5)


@given(deltas)
def test_state_loads_back_into_an_empty_store(items: list[tuple[str, int, int, int]]) -> None:
    store = _store(items)
    back = SliceStore()
    back.load_state(store.state())
    assert back.as_dict() == store.as_dict()
    assert [k for k, _ in back.items()] == [k for k, _ in store.items()]
