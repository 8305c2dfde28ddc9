import re

import numpy as np
import pandas as pd
import pytest

from archgraph.evaluators import Evaluator, TableEvaluator
from archgraph.spaces import ChoiceArch, get_search_space


@pytest.fixture
def space():
    return get_search_space("macro")


@pytest.fixture
def table(space):
    """A user's own table: 50 architectures of the space with made-up accuracies."""
    archs = space.sample(50, rng=0)
    acc = np.linspace(80, 90, 50)
    return pd.DataFrame({"arch": [space.to_str(a) for a in archs], "acc": acc}), archs, acc


def test_is_an_evaluator(space, table):
    ev = TableEvaluator(space, table[0], "arch", "acc")
    assert isinstance(ev, Evaluator)
    assert ev.space is space


def test_protocol_is_structural(space):
    class Constant:
        def __init__(self, space):
            self.space = space

        def evaluate(self, archs):
            return np.zeros(len(archs))

    assert isinstance(Constant(space), Evaluator)
    assert not isinstance(object(), Evaluator)


def test_exact_values_and_counter(space, table):
    frame, archs, acc = table
    ev = TableEvaluator(space, frame, "arch", "acc")
    np.testing.assert_array_equal(ev.evaluate(archs[:5]), acc[:5])
    np.testing.assert_array_equal(ev.evaluate(archs[3:1:-1]), acc[3:1:-1])
    assert ev.num_evaluations_ == 7
    np.testing.assert_array_equal(ev.true_accuracy(archs), acc)
    assert ev.num_evaluations_ == 7  # truth is free
    assert ev.evaluate([]).shape == (0,)


def test_fixed_noise_is_deterministic_per_arch_and_seed(space, table):
    frame, archs, acc = table
    ev = TableEvaluator(space, frame, "arch", "acc", noise_std=1.0, random_state=0)
    first = ev.evaluate(archs)
    np.testing.assert_array_equal(ev.evaluate(archs), first)  # re-evaluation: same value
    np.testing.assert_array_equal(ev.evaluate(archs[::-1]), first[::-1])
    assert 0.5 < np.std(first - acc) < 1.5
    again = TableEvaluator(space, frame, "arch", "acc", noise_std=1.0, random_state=0)
    np.testing.assert_array_equal(again.evaluate(archs), first)
    other = TableEvaluator(space, frame, "arch", "acc", noise_std=1.0, random_state=1)
    assert not np.allclose(other.evaluate(archs), first)
    np.testing.assert_array_equal(ev.true_accuracy(archs), acc)


def test_fresh_noise_redraws(space, table):
    frame, archs, acc = table
    ev = TableEvaluator(space, frame, "arch", "acc", noise_std=1.0, noise="fresh",
                        random_state=0)
    a, b = ev.evaluate(archs), ev.evaluate(archs)
    assert not np.allclose(a, b)
    ev2 = TableEvaluator(space, frame, "arch", "acc", noise_std=1.0, noise="fresh",
                         random_state=0)
    np.testing.assert_array_equal(ev2.evaluate(archs), a)


def test_key_function(space, table):
    frame, archs, acc = table
    frame = frame.assign(idx=[space.index(a) for a in archs])
    ev = TableEvaluator(space, frame, "idx", "acc", key=space.index)
    np.testing.assert_array_equal(ev.evaluate(archs), acc)


def test_errors(space, table):
    frame, archs, _ = table
    ev = TableEvaluator(space, frame, "arch", "acc")
    missing = next(a for a in space.sample(200, rng=1) if a not in set(archs))
    with pytest.raises(ValueError, match=f"Architecture '{space.to_str(missing)}' is not in the "
                                         "table"):
        ev.evaluate([missing])
    with pytest.raises(ValueError, match="of the 'macro' space. Got one of the 'other' space"):
        ev.evaluate([ChoiceArch("other", (0,) * 8)])
    with pytest.raises(TypeError, match="'archs' parameter of TableEvaluator must be a sequence"):
        ev.evaluate(archs[0])
    with pytest.raises(TypeError, match="'archs' .* Got str"):
        ev.evaluate("00000000")
    with pytest.raises(ValueError, match="'target_column' .* must be one of 'arch', 'acc'. "
                                         "Got 'accuracy'"):
        TableEvaluator(space, frame, "arch", "accuracy")
    with pytest.raises(ValueError, match="'arch_column'"):
        TableEvaluator(space, frame, "name", "acc")
    with pytest.raises(ValueError, match=r"'noise_std' .* \[0, inf\). Got -1"):
        TableEvaluator(space, frame, "arch", "acc", noise_std=-1)
    with pytest.raises(ValueError, match="'noise' .* 'fixed', 'fresh'. Got 'gaussian'"):
        TableEvaluator(space, frame, "arch", "acc", noise="gaussian")
    with pytest.raises(TypeError, match="'table' .* pandas DataFrame. Got dict"):
        TableEvaluator(space, {"arch": []}, "arch", "acc")
    with pytest.raises(TypeError, match="'space' .* SearchSpace. Got str"):
        TableEvaluator("macro", frame, "arch", "acc")
    with pytest.raises(ValueError, match="'arch' of TableEvaluator must be unique. Got '"):
        TableEvaluator(space, pd.concat([frame, frame.iloc[:1]]), "arch", "acc")
    with pytest.raises(TypeError, match="'target_column' 'arch' .* must hold numbers"):
        TableEvaluator(space, frame.assign(arch=frame.arch + "x"), "arch", "arch")


def test_nan_target_raises(space, table):
    frame, archs, _ = table
    frame = frame.assign(acc=frame.acc.where(frame.index != 3))
    ev = TableEvaluator(space, frame, "arch", "acc")
    ev.evaluate(archs[:3])
    with pytest.raises(ValueError, match=f"'{space.to_str(archs[3])}' has no 'acc' value"):
        ev.evaluate(archs[2:5])


def test_from_benchmark_bad_name():
    with pytest.raises(ValueError, match="'name' .* 'macro', 'nasbench101', 'nasbench201'. "
                                         "Got 'nasbench301' instead. Did you mean 'nasbench201'"):
        TableEvaluator.from_benchmark("nasbench301")


@pytest.mark.data
def test_from_benchmark_macro(shared_data):
    ev = TableEvaluator.from_benchmark("macro", data_dir=shared_data)
    space = ev.space
    archs = [space.from_str("00000000"), space.from_str("22222222")]
    acc = ev.evaluate(archs)
    assert 40 < acc[0] < 50 and acc[1] > 85
    seed0 = TableEvaluator.from_benchmark("macro", target="test_acc_seed0", data_dir=shared_data)
    assert seed0.evaluate(archs[:1])[0] == pytest.approx(45.32)  # the table's value, 2 decimals
    for column in ("flops", "params", "std", "arch"):  # only accuracies are targets
        with pytest.raises(ValueError, match=f"'target' option of the table evaluator must "
                                             f"name a metric column of the macro table: "
                                             f"'mean_acc', .* Got '{column}' instead"):
            TableEvaluator.from_benchmark("macro", target=column, data_dir=shared_data)


@pytest.mark.data
def test_nasbench201_index_is_not_a_target(shared_data):
    with pytest.raises(ValueError, match="metric column of the nasbench201 table: "
                                         "'cifar10_test_200'.* Got 'index' instead"):
        TableEvaluator.from_benchmark("nasbench201", target="index", data_dir=shared_data)


@pytest.mark.data
def test_nasbench101_in_percent_and_sampled_from_its_rows(shared_data):
    ev = TableEvaluator.from_benchmark("nasbench101", data_dir=shared_data)
    archs = ev.sample(300, rng=0)
    acc = ev.evaluate(archs)
    assert len(set(archs)) == 300 and acc.min() > 5 and acc.max() <= 100  # percent
    assert ev.sample(100, rng=0) == archs[:100]  # nested: resuming with a larger n extends
    with pytest.raises(ValueError, match=r"'n' parameter must be in \[1, 1000\] for the table "
                                         r"evaluator of 'nasbench101'.*Got 1001"):
        ev.sample(1001, rng=0)
    nb201 = TableEvaluator.from_benchmark("nasbench201", data_dir=shared_data)
    assert nb201.sample(5, rng=3) == nb201.space.sample(5, 3)  # whole space: the space's sample


@pytest.mark.data
@pytest.mark.parametrize("name", ["nasbench201", "nasbench101"])
def test_from_benchmark_cells(shared_data, name):
    ev = TableEvaluator.from_benchmark(name, data_dir=shared_data, noise_std=0.5, random_state=0)
    archs = list(ev.table["arch"].iloc[:20])
    if name == "nasbench201":
        archs = [ev.space.from_str(s) for s in archs]
    truth = ev.true_accuracy(archs)
    np.testing.assert_array_equal(truth, ev.table[ev.target_column].to_numpy()[:20])
    assert np.abs(ev.evaluate(archs) - truth).max() > 0


def _relabelled_twin(space, cell):
    """The same cell with two inner nodes swapped (a different spec), or None."""
    n = cell.num_nodes
    a = np.asarray(cell.adjacency)
    for i in range(1, n - 1):
        for j in range(i + 1, n - 1):
            order = list(range(n))
            order[i], order[j] = j, i
            b = a[np.ix_(order, order)]
            ops = [cell.ops[k] for k in order]
            if not np.tril(b).any() and (b.tolist(), ops) != (a.tolist(), list(cell.ops)):
                return space.from_spec(b, ops)
    return None


@pytest.mark.data
def test_nasbench101_isomorphic_cells_share_a_row(shared_data):
    ev = TableEvaluator.from_benchmark("nasbench101", data_dir=shared_data)
    found = 0
    for pos, cell in enumerate(ev.table["arch"].iloc[:50]):
        twin = _relabelled_twin(ev.space, cell)
        if twin is not None:
            assert ev.space.to_str(twin) != ev.space.to_str(cell)
            assert ev.evaluate([twin])[0] == ev.table["valid_acc_108"].iloc[pos]
            found += 1
    assert found > 0
    known = set(ev.table["hash"])
    outside = next(c for c in ev.space.sample(20, rng=0) if c.module_hash not in known)
    with pytest.raises(ValueError, match=f"'{re.escape(ev.space.to_str(outside))}' \\(key "
                                         f"'{outside.module_hash}'\\) is not in the table"):
        ev.evaluate([outside])


@pytest.mark.data
def test_evaluate_takes_strings(shared_data):
    ev = TableEvaluator.from_benchmark("macro", data_dir=shared_data)
    arch = ev.space.from_str("00000120")
    np.testing.assert_array_equal(ev.true_accuracy(["00000120"]), ev.true_accuracy([arch]))
