"""Property-based tests (hypothesis) over the public parsers, constructors and queries: every
input either works (and the result is checked) or raises ValueError/TypeError.

Example counts come from the profile loaded in ``tests/conftest.py`` (``HYPOTHESIS_PROFILE``);
``bench/fuzz.py`` runs this module with the long ``fuzz`` profile.
"""
import math

import numpy as np
import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from archgraph.lookup import LookupTable, pareto_mask  # noqa: E402
from archgraph.predictors import get_predictor  # noqa: E402
from archgraph.spaces import (  # noqa: E402
    ChainLayer,
    ChainSpace,
    get_search_space,
    list_search_spaces,
    parse_op,
)
from archgraph.spaces.costs import op_cost  # noqa: E402
from archgraph.utils.validation import check_bound, check_finite  # noqa: E402

BAD = (ValueError, TypeError)
SPACES = list_search_spaces()
#: numbers a hostile caller passes: floats of every kind, huge/negative ints, numpy scalars
NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                    st.integers(min_value=-10 ** 400, max_value=10 ** 400),
                    st.sampled_from([10 ** 400, -10 ** 400, 2 ** 63, np.int32(7), np.float32(1e38),
                                     np.int64(-1), True, 0.0, -0.0]))
JUNK = st.one_of(st.none(), st.text(max_size=5), st.lists(st.integers(), max_size=2),
                 st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
                 st.just(object()), st.complex_numbers())


@pytest.mark.parametrize("name", SPACES)
@given(seed=st.integers(0, 2 ** 32 - 1))
def test_space_string_round_trip(name, seed):
    space = get_search_space(name)
    arch = space.sample(1, rng=seed)[0]
    s = space.to_str(arch)
    assert s.isascii()
    assert space.from_str(s) == arch
    assert space.to_str(space.from_str(s)) == s


def _mutations(s: str):
    """Strategies of strings near ``s``: one character inserted, replaced or deleted, with
    characters that parsers confuse (non-ASCII digits, separators, zeros)."""
    chars = st.one_of(st.sampled_from(list("0123456789|~+-,٣²٠१ \n")), st.characters())
    pos = st.integers(0, len(s))
    return st.one_of(
        st.tuples(pos, chars).map(lambda t: s[:t[0]] + t[1] + s[t[0]:]),
        st.tuples(pos, chars).map(lambda t: s[:t[0]] + t[1] + s[t[0] + 1:]),
        pos.map(lambda i: s[:i] + s[i + 1:]),
        st.text(max_size=40))


@pytest.mark.parametrize("name", SPACES)
@given(data=st.data())
def test_space_from_str_accepts_only_canonical_strings(name, data):
    space = get_search_space(name)
    s = space.to_str(space.sample(1, rng=data.draw(st.integers(0, 10 ** 6)))[0])
    t = data.draw(_mutations(s))
    try:
        arch = space.from_str(t)
    except BAD:
        return
    assert space.to_str(arch) == t  # accepted means: the one string of that architecture


@pytest.mark.parametrize("name", SPACES)
@given(value=JUNK.filter(lambda v: not isinstance(v, str)))
def test_space_from_str_rejects_non_strings(name, value):
    with pytest.raises(TypeError):
        get_search_space(name).from_str(value)


def test_nasbench201_rejects_known_bad_strings():
    space = get_search_space("nasbench201")
    good = space.to_str(space.sample(1, rng=0)[0])
    for bad in (good.replace("~1", "~01"), good.replace("~0", "~٠"), good.replace("~2", "~²")):
        with pytest.raises(ValueError, match="NAS-Bench-201"):
            space.from_str(bad)


OPS = st.one_of(st.sampled_from(["k3_e6", "k5_e3", "k7_e1", "conv_k3", "conv_k1", "identity",
                                 "skip", "k4_e6", "k03_e6", "k٣_e6", "k3_e0", "conv_k2"]),
                st.text(max_size=6))
INTS = st.one_of(st.integers(-2, 4096), st.sampled_from([np.int32(2048), np.int32(4096),
                                                         np.int64(3), 10 ** 30, True, 2.0]))


@given(op=OPS)
def test_parse_op(op):
    try:
        spec = parse_op(op)
    except BAD:
        return
    name = spec.kind if spec.expand is None and spec.kernel is None else (
        f"conv_k{spec.kernel}" if spec.kind == "conv" else f"k{spec.kernel}_e{spec.expand}")
    assert name == op  # one name per op


@given(cin=INTS, cout=INTS, stride=INTS, res=INTS, options=st.lists(OPS, max_size=3))
def test_chain_layer_costs_are_exact(cin, cout, stride, res, options):
    try:
        layer = ChainLayer("l", cin, cout, stride, res, options)
    except BAD:
        return
    for op in layer.options:
        flops, params = layer.cost(op)
        ref = op_cost(op, int(cin), int(cout), int(stride), int(res))  # Python ints: exact
        assert (flops, params) == ref and type(flops) is int and flops >= 0 and params >= 0


def test_chain_layer_numpy_ints_do_not_overflow():
    big = np.int32(4096)
    layer = ChainLayer("l", big, big, np.int32(1), np.int32(224), ["k7_e6"])
    flops, _ = layer.cost("k7_e6")
    assert flops == op_cost("k7_e6", 4096, 4096, 1, 224)[0] > np.iinfo(np.int32).max


ROW = st.fixed_dictionaries({"name": st.sampled_from(["a", "b", "c"]), "in_channels": INTS,
                             "out_channels": INTS, "stride": INTS, "resolution": INTS,
                             "options": st.lists(OPS, min_size=1, max_size=3)})


@given(rows=st.lists(ROW, max_size=3), num_classes=st.one_of(st.none(), INTS))
def test_chain_space_declarations(rows, num_classes):
    try:
        space = ChainSpace("fuzz_chain", rows, num_classes=num_classes)
    except BAD:
        return
    arch = space.sample(1, rng=0)[0]
    assert space.from_str(space.to_str(arch)) == arch
    assert math.isfinite(space.flops(arch)) and space.flops(arch) >= 0


# -- lookup tables --------------------------------------------------------------------------
def _table():
    space = get_search_space("macro").subspace([0, 1, 2], get_search_space("macro").default_arch())
    acc = np.random.default_rng(0).random(len(space))
    return LookupTable.from_predictions(space, None, acc, columns={"latency": acc[::-1] * 5})


TABLE = _table()
BUDGET = st.one_of(st.none(), NUMBERS, JUNK)


@given(max_flops=BUDGET, max_params=BUDGET, min_accuracy=BUDGET,
       top_k=st.one_of(st.none(), st.integers(-2, 40), JUNK),
       constraints=st.one_of(st.none(), JUNK, st.dictionaries(
           st.sampled_from(["flops", "latency", "nope", 3]), NUMBERS, max_size=2)))
def test_lookup_query(max_flops, max_params, min_accuracy, top_k, constraints):
    try:
        out = TABLE.query(max_flops=max_flops, max_params=max_params, min_accuracy=min_accuracy,
                          top_k=top_k, constraints=constraints)
    except BAD as exc:
        assert "'" in str(exc)  # names an argument or a column
        return
    frame = TABLE.frame
    bounds = {"flops": max_flops, "params": max_params, **(constraints or {})}
    ok = np.ones(len(frame), dtype=bool)
    for column, bound in bounds.items():
        if bound is not None:
            assert not (isinstance(bound, float) and math.isnan(bound))  # NaN never accepted
            ok &= np.array([v <= bound for v in frame[column].tolist()])  # exact comparisons
    if min_accuracy is not None:
        ok &= np.array([v >= min_accuracy for v in frame["accuracy"].tolist()])
    want = np.flatnonzero(ok)
    want = want[np.argsort(-frame["accuracy"].to_numpy()[want], kind="stable")]
    if top_k is not None:
        want = want[:top_k]
    assert list(out.index) == list(want)


def test_lookup_query_never_drops_a_bound():
    with pytest.raises(ValueError, match="'max_flops' and by 'constraints'"):
        TABLE.query(max_flops=1e9, constraints={"flops": 1.0})
    with pytest.raises(TypeError, match="'constraints'"):
        TABLE.query(constraints="flops")
    with pytest.raises(ValueError, match="'max_flops'.*NaN"):
        TABLE.query(max_flops=float("nan"))
    assert len(TABLE.query(max_flops=10 ** 400, top_k=None)) == len(TABLE)


@given(cost=st.lists(NUMBERS, max_size=30), accuracy=st.lists(NUMBERS, max_size=30))
def test_pareto_mask(cost, accuracy):
    try:
        mask = pareto_mask(cost, accuracy)
    except BAD:
        return
    c, a = np.asarray(cost, float), np.asarray(accuracy, float)
    for i in np.flatnonzero(mask):  # no kept row is dominated by another row
        assert not np.any((c <= c[i]) & (a >= a[i]) & ((c < c[i]) | (a > a[i])))
    for i in np.flatnonzero(~mask):  # every dropped row is weakly dominated by a kept one
        assert np.any(mask & (c <= c[i]) & (a >= a[i]))


@given(values=st.one_of(st.lists(NUMBERS, max_size=5), JUNK, NUMBERS))
def test_check_finite(values):
    try:
        out = check_finite(values, "v", "f")
    except BAD as exc:
        assert "'v' parameter of f" in str(exc)
        return
    assert out.dtype == np.float64 and out.ndim == 1 and np.isfinite(out).all()


@given(value=st.one_of(NUMBERS, JUNK))
def test_check_bound(value):
    try:
        out = check_bound(value, "v", "f")
    except BAD as exc:
        assert "'v' parameter of f" in str(exc)
        return
    # the float64 nearest to the value (ints beyond 2**53 round), +-inf beyond float64's range
    assert not math.isnan(out) and (out == value or abs(value) > 1.7e308
                                    or out == float(value))


# -- predictors -----------------------------------------------------------------------------
SPACE = get_search_space("digits5")
ARCHS = SPACE.sample(12, rng=0)
TARGETS = st.one_of(st.floats(allow_nan=False, allow_infinity=False),
                    st.integers(-10 ** 400, 10 ** 400), st.sampled_from([1e30, -1e30, 1e-320]))
FAST = {"ridge": {}, "random_forest": dict(n_estimators=5, random_state=0),
        "correct_smooth": dict(random_state=0),
        "neural": dict(hidden_channels=8, fc_channels=(8,), epochs=2, batch_size=16,
                       random_state=0)}


@pytest.mark.parametrize("name", sorted(FAST))
@settings(max_examples=15)
@given(y=st.lists(TARGETS, min_size=12, max_size=12))
def test_predictor_fit_extreme_targets(name, y):
    model = get_predictor(name, space=SPACE, **FAST[name])
    try:
        model.fit(ARCHS, y)
    except BAD as exc:
        assert "'y'" in str(exc)
        return
    pred = model.predict(ARCHS)
    assert pred.shape == (12,) and np.isfinite(pred).all()


# -- dataset tables -------------------------------------------------------------------------
@given(frame=st.lists(st.tuples(st.sampled_from(["21122", "2112", "21٣22", "00000"]),
                                NUMBERS), max_size=6).map(
    lambda rows: pd.DataFrame(rows, columns=["arch", "accuracy"])))
def test_lookup_table_from_dataset_rows(frame):
    try:
        archs = [SPACE.from_str(s) for s in frame["arch"]]
        table = LookupTable.from_predictions(SPACE, archs, frame["accuracy"].tolist())
    except BAD:
        return
    assert np.isfinite(table.frame["accuracy"]).all()
    assert list(table.query(top_k=None)["accuracy"]) == sorted(table.frame["accuracy"],
                                                               reverse=True)
