import numpy as np
import pytest

from archgraph.utils.validation import check_random_state


def test_random_state_forms():
    a = check_random_state(3).integers(1000, size=5)
    np.testing.assert_array_equal(check_random_state(3).integers(1000, size=5), a)
    g = np.random.default_rng(0)
    assert check_random_state(g) is g
    legacy = np.random.RandomState(7)
    first = check_random_state(legacy).integers(1000, size=5)
    second = check_random_state(legacy).integers(1000, size=5)  # the RandomState advanced
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(check_random_state(np.random.RandomState(7))
                                  .integers(1000, size=5), first)
    for bad in (True, 1.5, "0"):
        with pytest.raises(TypeError, match="'random_state' parameter must be None, an int, a "
                                            "numpy.random.Generator or a numpy.random."
                                            "RandomState. Got"):
            check_random_state(bad)


def test_check_fraction():
    from archgraph.utils.validation import check_fraction

    assert check_fraction(0.25, "holdout") == 0.25
    with pytest.raises(TypeError, match="'holdout' parameter of f must be a float in \\(0, 1\\). "
                                        "Got '0.5' \\(str\\)"):
        check_fraction("0.5", "holdout", "f")
    for bad in (0, 1.0, -0.1):
        with pytest.raises(ValueError, match="must be a float in \\(0, 1\\). Got"):
            check_fraction(bad, "holdout", "f")
