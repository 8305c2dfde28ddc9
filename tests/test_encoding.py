from __future__ import annotations

import itertools

import numpy as np
import pytest

from archgraph.encoding import gray_bits, gray_decode, gray_encode, onehot_encode

NUM_OPTIONS = (3, 5, 2, 8, 1)


def all_choices(num_options):
    return np.array(list(itertools.product(*(range(o) for o in num_options))))


def test_gray_bits():
    assert [gray_bits(o) for o in (1, 2, 3, 4, 5, 8, 9)] == [1, 1, 2, 2, 3, 3, 4]


def test_gray_neighbours_differ_in_one_bit():
    choices = all_choices(NUM_OPTIONS)
    codes = gray_encode(choices, NUM_OPTIONS)
    assert codes.shape == (len(choices), sum(gray_bits(o) for o in NUM_OPTIONS))
    for l, o in enumerate(NUM_OPTIONS):
        step = choices.copy()
        ok = step[:, l] + 1 < o
        step[ok, l] += 1
        diff = np.abs(gray_encode(step[ok], NUM_OPTIONS) - codes[ok]).sum(1)
        assert np.all(diff == 1)


def test_gray_codes_distinct_and_decode_inverts():
    choices = all_choices(NUM_OPTIONS)
    codes = gray_encode(choices, NUM_OPTIONS)
    assert len({tuple(c) for c in codes}) == len(choices)
    np.testing.assert_array_equal(gray_decode(codes, NUM_OPTIONS), choices)
    np.testing.assert_array_equal(gray_decode(codes[0], NUM_OPTIONS), choices[:1])


def test_gray_known_sequence():
    codes = gray_encode(np.arange(4)[:, None], (4,))
    assert codes.tolist() == [[0, 0], [0, 1], [1, 1], [1, 0]]


def test_onehot():
    x = onehot_encode([[2, 0], [1, 1]], (3, 2))
    assert x.tolist() == [[0, 0, 1, 1, 0], [0, 1, 0, 0, 1]]
    assert onehot_encode([0, 1], (3, 2)).shape == (1, 5)


def test_errors():
    with pytest.raises(ValueError, match=r"must have shape \[n, 2\]. Got shape \(1, 3\)"):
        gray_encode([[0, 1, 0]], (3, 2))
    with pytest.raises(TypeError, match="must hold integers. Got dtype float64"):
        onehot_encode([[0.0, 1.0]], (3, 2))
    with pytest.raises(ValueError, match=r"Choice 2 at layer 1 is out of range: layer 1 has 2 "
                                         r"options \(0..1\)"):
        gray_encode([[0, 2]], (3, 2))
    with pytest.raises(ValueError, match=r"'bits' argument must have shape \[n, 3\]"):
        gray_decode([[0, 1]], (3, 2))
    with pytest.raises(ValueError, match=r"decodes to choice 7 at layer 0, which has 6 options"):
        gray_decode([[1, 0, 0]], (6,))
    with pytest.raises(ValueError, match="must hold only 0 and 1. Got 2"):
        gray_decode([[2, 0, 1]], (6,))
