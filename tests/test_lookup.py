import io
import json
import os

import numpy as np
import pandas as pd
import pytest

from archgraph.lookup import EmptyQueryWarning, LookupTable, pareto_mask, soft_pareto_mask
from archgraph.spaces import get_search_space
from archgraph.utils.io import bytes_digest, frame_digest


@pytest.fixture(scope="module")
def space():
    return get_search_space("macro")


@pytest.fixture(scope="module")
def table(space):
    """Whole-space table with predictions correlated with FLOPs (as real ones are)."""
    rng = np.random.default_rng(0)
    flops = space.costs("flops")
    acc = 80 + 10 * flops / flops.max() + rng.normal(0, 1, len(space))
    return LookupTable.from_predictions(space, None, acc, columns={"latency": flops / 1e6})


def test_whole_space_rows_follow_the_index(space, table):
    assert len(table) == len(space) == 6561
    assert table.layers == space.layer_names
    assert "arch" not in table.frame.columns  # made lazily, for results only
    assert all(table.frame[c].dtype == np.int8 for c in table.layers)
    np.testing.assert_array_equal(table.frame["params"], space.costs("params"))
    rows = np.array([0, 17, 6560])
    result = table._result(rows)
    assert result["arch"].tolist() == [space.to_str(a) for a in space.from_index(rows)]
    assert result.index.tolist() == rows.tolist()


def test_from_archs_stores_strings(space):
    archs = space.sample(20, rng=1)
    lut = LookupTable.from_predictions(space, archs, np.arange(20.0))
    assert lut.frame["arch"].tolist() == [space.to_str(a) for a in archs]
    np.testing.assert_array_equal(lut.frame["flops"], space.cost("flops", archs))
    best = lut.query(top_k=1)
    assert space.from_str(best["arch"].iloc[0]) == archs[19]


def test_subspace_table(space):
    sub = space.subspace([0, 3, 5], space.from_str("11111111"))
    lut = LookupTable.from_predictions(sub, None, np.arange(len(sub), dtype=float))
    assert len(lut) == 27 and lut.layers == sub.layer_names
    top = lut.query(top_k=1)
    assert top["arch"].iloc[0] == "21121211"  # last in index order: every free layer at 2
    assert top["flops"].iloc[0] == space.flops(space.from_str("21121211"))


def test_non_product_space_needs_archs():
    nb101 = get_search_space("nasbench101")
    cells = nb101.sample(4, rng=0)
    lut = LookupTable.from_predictions(nb101, cells, [1.0, 2.0, 3.0, 4.0], costs=())
    assert lut.layers == () and lut.query(top_k=2)["accuracy"].tolist() == [4.0, 3.0]
    with pytest.raises(ValueError, match="'archs' .* may be None .* only for a ProductSpace"):
        LookupTable.from_predictions(nb101, None, [1.0])
    with pytest.raises(ValueError, match="'costs' .* 'flops' or 'params' .* Got 'latency'"):
        LookupTable.from_predictions(nb101, cells, [1.0] * 4, costs=("latency",))


def test_query(table):
    budget = float(np.median(table.frame["flops"]))
    out = table.query(max_flops=budget, max_params=3e6, top_k=7)
    assert len(out) == 7
    assert (out["flops"] <= budget).all() and (out["params"] <= 3e6).all()
    assert out["accuracy"].is_monotonic_decreasing
    feasible = table.frame[(table.frame.flops <= budget) & (table.frame.params <= 3e6)]
    assert out["accuracy"].iloc[0] == feasible["accuracy"].max()
    assert len(table.query(max_flops=budget, top_k=None)) == (table.frame.flops <= budget).sum()
    assert (table.query(min_accuracy=89.0, top_k=None)["accuracy"] >= 89.0).all()
    lat = table.query(max_latency=20.0, top_k=3)
    assert (lat["latency"] <= 20.0).all()
    same = table.query(constraints={"latency": 20.0}, top_k=3)
    pd.testing.assert_frame_equal(lat, same)
    assert len(table.query(max_flops=0.0)) == 0


def test_query_ties_keep_row_order(space):
    acc = np.zeros(len(space))
    acc[[5, 9, 3000, 4000]] = 1.0
    lut = LookupTable.from_predictions(space, None, acc)
    assert lut.query(top_k=3).index.tolist() == [5, 9, 3000]
    assert lut.query(top_k=6).index.tolist() == [5, 9, 3000, 4000, 0, 1]


def test_query_errors(space, table):
    bare = LookupTable.from_predictions(space, None, np.zeros(len(space)))
    with pytest.raises(ValueError, match="'max_latency' .* cost column 'latency', which this "
                                         "table lacks. Available cost columns: 'flops', 'params'"):
        bare.query(max_latency=10.0)
    with pytest.raises(ValueError, match="'constraints' .* 'energy'"):
        table.query(constraints={"energy": 1.0})
    with pytest.raises(TypeError, match="'max_flops' .* must be a float. Got '1e6'"):
        table.query(max_flops="1e6")
    with pytest.raises(ValueError, match=r"'top_k' .* in \[1, inf\]. Got 0"):
        table.query(top_k=0)


def _dominates(c1, a1, c2, a2):
    return c1 <= c2 and a1 >= a2 and (c1 < c2 or a1 > a2)


def test_pareto_mask_properties():
    rng = np.random.default_rng(2)
    cost = rng.integers(0, 30, 300).astype(float)  # ties in cost
    acc = rng.integers(0, 40, 300).astype(float)  # ties in accuracy, duplicates
    keep = pareto_mask(cost, acc)
    kept = np.flatnonzero(keep)
    for i in kept:  # nothing dominates a kept row
        assert not any(_dominates(cost[j], acc[j], cost[i], acc[i]) for j in range(300))
    for i in np.flatnonzero(~keep):  # a kept row is at least as good on both
        assert any(cost[j] <= cost[i] and acc[j] >= acc[i] for j in kept)
    assert len(set(zip(cost[kept], acc[kept]))) == len(kept)


def test_soft_pareto_rule():
    cost = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    acc = np.array([5.0, 6.0, 5.5, 5.8, 7.0])
    assert pareto_mask(cost, acc).tolist() == [True, True, False, False, True]
    # J=2: 5.5 beats min(5, 6); 5.8 beats min(6, 5.5)
    assert soft_pareto_mask(cost, acc, 2).tolist() == [True] * 5
    rng = np.random.default_rng(3)
    cost, acc = rng.random(2000), rng.random(2000)
    strict = pareto_mask(cost, acc)
    np.testing.assert_array_equal(soft_pareto_mask(cost, acc, 1), strict)
    np.testing.assert_array_equal(soft_pareto_mask(cost, acc, 1, chunk=7), strict)
    soft = soft_pareto_mask(cost, acc, 4)
    assert soft.sum() > strict.sum() and not (strict & ~soft).any()
    np.testing.assert_array_equal(soft_pareto_mask(cost, acc, 4, chunk=5), soft)


def test_front_errors():
    with pytest.raises(ValueError, match="same length. Got 2 and 3"):
        pareto_mask([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="'accuracy' .* finite numbers. Got nan at position 0"):
        soft_pareto_mask([1, 2], [np.nan, 1], 2)
    with pytest.raises(ValueError, match=r"'J' .* in \[1, inf\]. Got 0"):
        soft_pareto_mask([1, 2], [1, 2], 0)


def test_table_fronts(table):
    front = table.pareto("flops")
    assert front["flops"].is_monotonic_increasing and front["accuracy"].is_monotonic_increasing
    assert front["arch"].notna().all()
    soft = table.soft_pareto(J=3, cost="latency")
    assert set(front.index) <= set(soft.index) and len(soft) > len(front)
    with pytest.raises(ValueError, match="Available cost columns: 'flops', 'params', 'latency'"):
        table.pareto("energy")
    lut = LookupTable(table.frame.assign(latency=np.nan), table.layers)
    with pytest.raises(ValueError, match="'latency' holds non-finite values"):
        lut.pareto("latency")


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_save_load_round_trip(tmp_path, space, table, suffix):
    path = table.save(tmp_path / f"lut{suffix}")
    loaded = LookupTable.load(path)
    assert loaded.space_name == "macro" and loaded.layers == table.layers
    # self-describing: the registered space is rebuilt from the stored signature
    assert loaded.space.signature() == space.signature()
    pd.testing.assert_frame_equal(loaded.frame, table.frame, check_dtype=True)
    pd.testing.assert_frame_equal(loaded.query(top_k=3), table.query(top_k=3))
    assert "arch" in loaded.query(top_k=2).columns
    with_space = LookupTable.load(path, space=space)
    pd.testing.assert_frame_equal(with_space.query(top_k=3), table.query(top_k=3))


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_arch_strings_survive_as_strings(tmp_path, space, suffix):
    archs = [space.from_str("00000000"), space.from_str("00000120")]
    lut = LookupTable.from_predictions(space, archs, [1.0, 2.0])
    loaded = LookupTable.load(lut.save(tmp_path / f"lut{suffix}"))
    assert loaded.frame["arch"].tolist() == ["00000000", "00000120"]


def test_load_errors(tmp_path, space, table):
    with pytest.raises(ValueError, match="'path' .* must end in '.parquet', '.pq', '.csv'. "
                                         "Got '.*lut.pkl'"):
        table.save(tmp_path / "lut.pkl")
    with pytest.raises(FileNotFoundError, match="No lookup table at"):
        LookupTable.load(tmp_path / "missing.csv")
    other = tmp_path / "other.csv"
    pd.DataFrame({"accuracy": [1.0]}).to_csv(other, index=False)
    with pytest.raises(ValueError, match="is not an archgraph lookup table: its first line"):
        LookupTable.load(other)
    other_pq = tmp_path / "other.parquet"
    pd.DataFrame({"accuracy": [1.0]}).to_parquet(other_pq)
    with pytest.raises(ValueError, match="is not an archgraph lookup table: its Parquet"):
        LookupTable.load(other_pq)
    path = table.save(tmp_path / "lut.parquet")
    with pytest.raises(ValueError, match="the table is of the 'macro' space .* Got the "
                                         "'nasbench201' space"):
        LookupTable.load(path, space=get_search_space("nasbench201"))


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_subspace_table_refuses_another_subspace(tmp_path, space, suffix):
    sub = space.subspace([0, 1, 2], space.from_str("00000000"))
    lut = LookupTable.from_predictions(sub, None, np.arange(len(sub), dtype=float))
    path = lut.save(tmp_path / f"sub{suffix}")
    loaded = LookupTable.load(path, space=sub)
    assert loaded.query(top_k=1)["arch"].tolist() == ["22200000"]
    shifted = space.subspace([0, 1, 2], space.from_str("00000011"))  # same layer names
    with pytest.raises(ValueError, match="same name and layers, but its rows number another "
                                         "\\(sub\\)space \\(base differ\\). The table's: base "
                                         "'00000000'; got base '00000011'"):
        LookupTable.load(path, space=shifted)
    best = [space.from_str(a) for a in ("01200000", "02100000", "01100000")]
    supercell = sub.with_supercell([1, 2], best)
    lut = LookupTable.from_predictions(supercell, None, np.zeros(len(supercell)))
    path = lut.save(tmp_path / f"cell{suffix}")
    other = sub.with_supercell([1, 2], best[:2] + [space.from_str("02200000")])  # other K best
    with pytest.raises(ValueError, match="factors differ"):
        LookupTable.load(path, space=other)
    assert len(LookupTable.load(path, space=supercell)) == len(supercell)


def _break_after_partial_write(monkeypatch, fmt):
    def broken(self_or_table, target, *args, **kwargs):
        with open(target, "w") if isinstance(target, (str, os.PathLike)) else target as fh:
            fh.write("partial")
        raise RuntimeError("disk full")
    if fmt == "csv":
        monkeypatch.setattr(pd.DataFrame, "to_csv", broken)
    else:
        import pyarrow.parquet as pq
        monkeypatch.setattr(pq, "write_table", broken)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_interrupted_save_leaves_nothing(tmp_path, monkeypatch, table, suffix):
    path = tmp_path / f"lut{suffix}"
    _break_after_partial_write(monkeypatch, suffix[1:])
    with pytest.raises(RuntimeError, match="disk full"):
        table.save(path)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    table.save(path)
    before = path.read_bytes()
    _break_after_partial_write(monkeypatch, suffix[1:])
    with pytest.raises(RuntimeError, match="disk full"):
        table.save(path)
    assert path.read_bytes() == before and list(tmp_path.iterdir()) == [path]


def test_from_predictions_errors(space):
    n = len(space)
    with pytest.raises(ValueError, match=f"'accuracy' .* one value per architecture \\({n}\\). "
                                         "Got 3"):
        LookupTable.from_predictions(space, None, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="'accuracy' .* finite numbers. Got nan at position 5"):
        LookupTable.from_predictions(space, None, np.where(np.arange(n) == 5, np.nan, 1.0))
    with pytest.raises(TypeError, match="'costs' .* Got the str 'flops'"):
        LookupTable.from_predictions(space, None, np.zeros(n), costs="flops")
    with pytest.raises(ValueError, match="'metric' .* 'flops', 'params'. Got 'latency'"):
        LookupTable.from_predictions(space, None, np.zeros(n), costs=("latency",))
    with pytest.raises(ValueError, match=r"must be distinct.* Got \['flops'\]"):
        LookupTable.from_predictions(space, None, np.zeros(n), columns={"flops": np.zeros(n)})
    with pytest.raises(ValueError, match=r"Column 'latency' .* shape \(6561,\). Got \(2,\)"):
        LookupTable.from_predictions(space, None, np.zeros(n), columns={"latency": [1, 2]})
    with pytest.raises(TypeError, match="'space' .* SearchSpace. Got str"):
        LookupTable.from_predictions("macro", None, np.zeros(n))
    with pytest.raises(ValueError, match=r"must have the columns 'accuracy' .* Missing \['acc"):
        LookupTable(pd.DataFrame({"acc": [1.0]}))
    with pytest.raises(TypeError, match="'frame' .* DataFrame. Got dict"):
        LookupTable({"accuracy": [1.0]})


# -- indexed queries and fast fronts against the plain scans they replace -------------------
def _scan_query(table, max_flops=None, max_params=None, max_latency=None, min_accuracy=None,
                top_k=10, constraints=None):
    """The full-scan query: mask every row, keep the top_k by accuracy, ties by row."""
    bounds = {"flops": max_flops, "params": max_params, "latency": max_latency,
              **(constraints or {})}
    mask = np.ones(len(table), dtype=bool)
    for column, value in bounds.items():
        if value is not None:
            mask &= table.frame[column].to_numpy(dtype=np.float64) <= float(value)
    accuracy = table.frame["accuracy"].to_numpy(dtype=np.float64)
    if min_accuracy is not None:
        mask &= accuracy >= float(min_accuracy)
    rows = np.flatnonzero(mask)
    if top_k is not None and top_k < len(rows):
        kth = np.partition(accuracy[rows], len(rows) - top_k)[len(rows) - top_k]
        rows = rows[accuracy[rows] >= kth]
    rows = rows[np.lexsort((rows, -accuracy[rows]))][:top_k]
    return table._result(rows)


def _scan_pareto_mask(cost, accuracy):
    order = np.lexsort((-accuracy, cost))
    acc = accuracy[order]
    best_before = np.concatenate([[-np.inf], np.maximum.accumulate(acc)[:-1]])
    mask = np.zeros(len(acc), dtype=bool)
    mask[order] = acc > best_before
    return mask


def _scan_soft_pareto_mask(cost, accuracy, J):
    kept, window, threshold = np.zeros(len(cost), dtype=bool), [], -np.inf
    for i in np.lexsort((-accuracy, cost)):
        if accuracy[i] > threshold:
            kept[i] = True
            window = (window + [accuracy[i]])[-J:]
            threshold = min(window)
    return kept


def _random_table(rng, n, space=None):
    """Random columns with ties: accuracy on a coarse grid, integer params, float32 latency."""
    frame = pd.DataFrame({
        "accuracy": rng.integers(0, rng.choice([3, 50, 10 * n + 1]), n) / 7.0,
        "flops": rng.lognormal(5, 1, n).round(rng.choice([0, 3])),
        "params": rng.integers(0, 1000, n),
        "latency": rng.random(n).astype(np.float32)})
    layers = ()
    if space is not None:
        frame = pd.concat([pd.DataFrame(space.encode(space.sample(n, rng=rng)).astype(np.int8),
                                        columns=list(space.layer_names)), frame], axis=1)
        layers = space.layer_names
    return LookupTable(frame, layers, space=space)


def _budget(rng, values):
    """A bound that keeps none (or the zeros), some or all of ``values``; never negative
    (refused) nor in (0, 1] (a fraction, refused as min_accuracy of percent tables)."""
    kind = rng.integers(5)
    bound = (float(values.min()) - 1 if kind == 0 else float(values.max()) if kind == 1
             else float(np.quantile(values, rng.random())))
    return 0.0 if bound <= 1 else bound


@pytest.mark.filterwarnings("ignore::archgraph.lookup.EmptyQueryWarning")
@pytest.mark.parametrize("first_block", [1, 5, 4096])
def test_indexed_query_equals_the_scan(monkeypatch, space, first_block):
    from archgraph import lookup
    monkeypatch.setattr(lookup, "_FIRST_BLOCK", first_block)  # many blocks (and scans), or one
    rng = np.random.default_rng(first_block)
    for trial in range(60):
        n = int(rng.choice([1, 2, 17, 300, 3000]))
        table = _random_table(rng, n, space if trial % 3 == 0 else None)
        for _ in range(5):
            kwargs = {}
            for column, argument in [("flops", "max_flops"), ("params", "max_params"),
                                     ("latency", "max_latency")]:
                if rng.random() < 0.5:
                    kwargs[argument] = _budget(rng, table.frame[column].to_numpy())
            if rng.random() < 0.4:
                kwargs["min_accuracy"] = _budget(rng, table.frame["accuracy"].to_numpy())
            kwargs["top_k"] = [None, 1, 3, 10, n, n + 5][rng.integers(6)]
            got, want = table.query(**kwargs), _scan_query(table, **kwargs)
            pd.testing.assert_frame_equal(got, want, check_exact=True)
            assert got.index.equals(want.index), kwargs


def test_query_ties_and_empty_results(table):
    acc = np.repeat([3.0, 2.0, 1.0], [4, 3, 3])
    lut = LookupTable(pd.DataFrame({"accuracy": acc, "flops": np.arange(10.0)[::-1]}))
    assert lut.query(top_k=5).index.tolist() == [0, 1, 2, 3, 4]
    assert lut.query(max_flops=5.0, top_k=3).index.tolist() == [4, 5, 6]
    assert lut.query(min_accuracy=2.0, top_k=None).index.tolist() == list(range(7))
    assert lut.query(max_flops=2.0, min_accuracy=2.0).empty
    assert lut.query(min_accuracy=3.5).empty
    assert lut.query(max_flops=1.0, top_k=50).index.tolist() == [8, 9]  # top_k > matches
    with pytest.warns(EmptyQueryWarning, match=r"satisfies max_flops=0: its 'flops' column "
                                               r"ranges over \[7\.7\d*e\+06, "):
        empty = table.query(max_flops=0.0, top_k=None)
    pd.testing.assert_frame_equal(empty, _scan_query(table, max_flops=0.0, top_k=None))
    assert list(empty.columns) == ["arch", *table.frame.columns]  # made for the result only
    assert "arch" not in table.frame.columns


def test_accuracy_order(table):
    order = table.accuracy_order
    acc = table.frame["accuracy"].to_numpy()
    np.testing.assert_array_equal(order, np.lexsort((np.arange(len(acc)), -acc)))
    assert table.accuracy_order is order and not order.flags.writeable  # built once
    table2 = LookupTable(table.frame, table.layers)
    table2.frame = table.frame.assign(accuracy=-acc)  # a new frame: a new order
    np.testing.assert_array_equal(table2.accuracy_order, np.lexsort((np.arange(len(acc)), acc)))
    nan = LookupTable(pd.DataFrame({"accuracy": [1.0, np.nan, np.nan]}))
    with pytest.raises(ValueError, match="'accuracy' column .* numbers to be queried. Got NaN "
                                         "at row 1 \\(2 NaN in all\\)"):
        nan.query()


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_table_with_nan_accuracy_is_refused_on_load(tmp_path, suffix):
    nan = LookupTable(pd.DataFrame({"accuracy": [1.0, np.nan], "flops": [1.0, 2.0]}))
    path = nan.save(tmp_path / f"nan{suffix}")  # saved without an order (none exists)
    with pytest.raises(ValueError, match=rf"^Lookup table '{path}', row 1: accuracy is .*nan"
                                         rf".*not a finite number \(1 such rows\)\.$"):
        LookupTable.load(path)


def test_cut_whole_space_csv_is_refused(tmp_path, table):
    path = table.save(tmp_path / "lut.csv")
    header, body = path.read_text().split("\n", 1)
    rows = body.splitlines()
    meta = json.loads(header[len("# archgraph-lookup-table "):])
    meta.pop("order")
    frame = pd.read_csv(io.StringIO("\n".join(rows[:-3]))).drop(columns="accuracy_order")
    cut = frame.to_csv(index=False)  # 3 rows fewer, checksum recomputed: only the size tells
    meta["sha256"] = bytes_digest(cut.encode())
    path.write_text("# archgraph-lookup-table " + json.dumps(meta) + "\n" + cut)
    with pytest.raises(ValueError, match=r"whole-space table of 6,561 architectures of 'macro' "
                                         r"but holds 6,558 rows"):
        LookupTable.load(path)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_saved_order_is_loaded_and_checked(tmp_path, table, suffix):
    path = table.save(tmp_path / f"lut{suffix}")
    loaded = LookupTable.load(path)
    assert loaded._order is not None  # read from the file, not sorted again
    np.testing.assert_array_equal(loaded._order, table.accuracy_order)
    assert "accuracy_order" not in loaded.frame.columns
    # a table with a column of that name stores the order under another one
    clash = LookupTable(table.frame.assign(accuracy_order=1.0), table.layers)
    back = LookupTable.load(clash.save(tmp_path / f"clash{suffix}"))
    pd.testing.assert_frame_equal(back.frame, clash.frame)
    np.testing.assert_array_equal(back._order, table.accuracy_order)
    # a file whose order does not follow its accuracies: dropped, rebuilt, same results
    lut = LookupTable(pd.DataFrame({"accuracy": [1.0, 3.0, 3.0, 2.0]}))
    path = lut.save(tmp_path / f"small{suffix}")
    assert LookupTable.load(path)._order.tolist() == [1, 2, 3, 0]  # 3.0 (rows 1, 2), 2.0, 1.0
    for broken, problem in [([2, 1, 3, 0], ("does not follow the accuracies .* position 1: "
                                            "row 1 \\(3.0\\) after row 2 \\(3.0\\)")),
                            ([1, 3, 2, 0], "position 2: row 2 \\(3.0\\) after row 3"),
                            ([1, 1, 3, 0], "position 1: row 1 \\(3.0\\) after row 1"),
                            ([1, 2, 3, 7], "row numbers outside 0..3"),
                            ([1, 2, 3, np.nan], "is not a column of integers \\(dtype float64")]:
        _rewrite_order(path, broken)
        with pytest.warns(UserWarning, match=f"order stored in .*small{suffix} .*{problem}.*; "
                                             "it is dropped and rebuilt"):
            bad = LookupTable.load(path)
        assert bad._order is None
        assert bad.query(top_k=None).index.tolist() == [1, 2, 3, 0]


def _rewrite_order(path, order):
    """Replace the stored order column of a saved table (the metadata stays, its checksum
    recomputed: a deliberate edit)."""
    if path.suffix == ".csv":
        header, body = path.read_text().split("\n", 1)
        body = pd.read_csv(io.StringIO(body)).assign(accuracy_order=order).to_csv(index=False)
        meta = json.loads(header[len("# archgraph-lookup-table "):])
        meta["sha256"] = bytes_digest(body.encode())
        path.write_text("# archgraph-lookup-table " + json.dumps(meta) + "\n" + body)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq
        table = pq.read_table(path)
        table = table.set_column(table.schema.get_field_index("accuracy_order"),
                                 "accuracy_order", pa.array(order))
        meta = json.loads(table.schema.metadata[b"archgraph"])
        meta["sha256"] = frame_digest(table.to_pandas())
        table = table.replace_schema_metadata({**table.schema.metadata,
                                               b"archgraph": json.dumps(meta).encode()})
        pq.write_table(table, path)


def test_version_1_files_load(tmp_path, table):
    path = table.save(tmp_path / "lut.csv")
    header, body = path.read_text().split("\n", 1)
    frame = pd.read_csv(io.StringIO(body)).drop(columns="accuracy_order")
    meta = json.loads(header[len("# archgraph-lookup-table "):])
    meta = {**meta, "version": 1}
    del meta["order"], meta["sha256"]
    meta = "# archgraph-lookup-table " + json.dumps(meta)
    path.write_text(meta + "\n" + frame.to_csv(index=False))
    loaded = LookupTable.load(path)
    assert loaded._order is None and "order" not in meta
    pd.testing.assert_frame_equal(loaded.query(top_k=4), table.query(top_k=4))


def test_fast_fronts_equal_the_scans():
    rng = np.random.default_rng(4)
    for trial in range(80):
        n = int(rng.choice([1, 2, 15, 16, 40, 500, 5000]))
        cost = [rng.random(n), rng.integers(0, 5, n).astype(float), np.full(n, 2.0),
                rng.lognormal(0, 3, n), -rng.random(n) * 1e300, rng.random(n) * 1e-310,
                np.where(rng.random(n) < 0.5, -1e308, 1e308)][trial % 7]  # ties, odd ranges
        acc = rng.integers(0, [4, 1000][trial % 2], n) / 3.0
        np.testing.assert_array_equal(pareto_mask(cost, acc), _scan_pareto_mask(cost, acc))
        for J in (1, 2, 5):
            np.testing.assert_array_equal(soft_pareto_mask(cost, acc, J, chunk=int(
                rng.integers(1, 50))), _scan_soft_pareto_mask(cost, acc, J))


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_altered_files_are_refused(tmp_path, table, suffix):
    path = table.save(tmp_path / f"lut{suffix}")
    raw = path.read_bytes()
    rng = np.random.default_rng(0)
    refused = 0
    for trial in range(40):
        flipped = bytearray(raw)
        flipped[int(rng.integers(4, len(raw) - 8))] ^= 1 << int(rng.integers(7))
        bad = tmp_path / f"flip{trial}{suffix}"
        bad.write_bytes(bytes(flipped))
        try:
            loaded = LookupTable.load(bad)
        except ValueError as exc:
            assert f"flip{trial}{suffix}" in str(exc) and "\n" not in str(exc)
            refused += 1
        else:  # accepted only if the content is unchanged (a flip in unused bytes)
            pd.testing.assert_frame_equal(loaded.frame, LookupTable.load(path).frame)
    assert refused >= 20
    half = tmp_path / f"half{suffix}"
    half.write_bytes(raw[:len(raw) // 2])
    with pytest.raises(ValueError, match=rf"half{suffix}'? is (corrupted|unreadable)"):
        LookupTable.load(half)


def test_unreadable_files_name_the_file(tmp_path, table):
    import pickle

    fake = tmp_path / "pickled.csv"
    fake.write_bytes(pickle.dumps({"a": list(range(300))}))
    with pytest.raises(ValueError, match=r"Lookup table '.*pickled.csv' is unreadable .*"
                                         r"UnicodeDecodeError|is not an archgraph lookup"):
        LookupTable.load(fake)
    path = table.save(tmp_path / "lut.csv")
    header, body = path.read_text().split("\n", 1)
    (tmp_path / "json.csv").write_text(header[:-5] + "\n" + body)
    with pytest.raises(ValueError, match=r"'.*json.csv' is unreadable .*JSONDecodeError"):
        LookupTable.load(tmp_path / "json.csv")
    (tmp_path / "junk.parquet").write_bytes(b"PAR1" + b"\x00" * 64 + b"PAR1")
    with pytest.raises(ValueError, match=r"'.*junk.parquet' is unreadable"):
        LookupTable.load(tmp_path / "junk.parquet")


def test_damaged_pandas_schema_gives_one_line(tmp_path, table):
    import pyarrow.parquet as pq

    path = table.save(tmp_path / "lut.parquet")
    raw = pq.read_table(path)
    meta = dict(raw.schema.metadata)
    pandas_meta = json.loads(meta[b"pandas"])
    for col in pandas_meta["columns"]:  # a flipped byte in a dtype name
        col["numpy_type"] = col["numpy_type"].replace("float64", "floGt64")
    meta[b"pandas"] = json.dumps(pandas_meta).encode()
    bad = tmp_path / "bad.parquet"
    pq.write_table(raw.replace_schema_metadata(meta), bad)
    with pytest.raises(ValueError) as info:
        LookupTable.load(bad)
    assert "bad.parquet' is unreadable" in str(info.value) and "\n" not in str(info.value)


def test_budgets_in_wrong_units_are_refused_or_explained(table):
    for argument in ("max_flops", "max_params", "max_latency"):
        with pytest.raises(ValueError, match=f"'{argument}' parameter of LookupTable.query must "
                                             f"be a budget >= 0. Got -1.0"):
            table.query(**{argument: -1.0})
    with pytest.raises(ValueError, match="'max_flops' .* not NaN"):
        table.query(max_flops=float("nan"))
    table.frame = table.frame.assign(accuracy=table.frame["accuracy"] * 0 + 50 + np.arange(
        len(table)) % 40)  # percent
    with pytest.raises(ValueError, match=r"'min_accuracy' .* percent .*: 90 for 90%. Got 0.9"):
        table.query(min_accuracy=0.9)
    with pytest.warns(EmptyQueryWarning, match="satisfies max_flops=60: its 'flops' column"):
        assert table.query(max_flops=60).empty  # 60 meant as 60M
    low = float(table.frame["flops"].min())
    with pytest.warns(EmptyQueryWarning, match="together .* 'flops' in"):
        assert table.query(max_flops=low, min_accuracy=88).empty


def test_get_one_architecture(tmp_path, space, table):
    arch = space.from_str("00000120")
    row = table.get(arch)
    assert row["arch"] == "00000120" and table.get("00000120") == row
    i = space.index(arch)
    assert row["accuracy"] == table.frame["accuracy"].iloc[i]
    assert row["flops"] == space.flops(arch) and {"params", "latency"} <= set(row)
    listed = LookupTable.from_predictions(space, [arch, space.from_str("00000000")], [1.0, 2.0])
    assert LookupTable.load(listed.save(tmp_path / "l.csv")).get("00000000")["accuracy"] == 2.0
    with pytest.raises(ValueError, match="'00000001' is not in this table"):
        listed.get("00000001")
