import functools
import json
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from torch.utils.data import Subset

from archgraph.spaces import get_search_space
from supernet import build_supernet
from supernet.compare import (
    GroundTruth,
    bias,
    compare_supernets,
    curve_fractions,
    drop_options,
    load_groundtruth,
    ranking_report,
    split_weights,
    uniform,
)
from supernet.data import load_perturbed_digits


@pytest.fixture(scope="module")
def space():
    return get_search_space("digits5v2")


def small_truth(space, n=12, seeds=3):
    archs = space.sample(n, 0)
    base = np.linspace(60, 80, n)
    noise = np.random.default_rng(0).normal(0, 0.5, (n, seeds))
    return GroundTruth(space, archs, base[:, None] + noise, space.cost("flops", archs))


def write_truth(tmp_path, space, truth):
    table = pd.DataFrame({"arch": [space.to_str(a) for a in truth.archs], "flops": truth.flops})
    for s in range(truth.seeds.shape[1]):
        table[f"acc_seed{s}"] = truth.seeds[:, s]
    path = tmp_path / "gt.csv"
    table.to_csv(path, index=False)
    path.with_suffix(".json").write_text(json.dumps({"space": space.name}))
    return path, table


def test_load_groundtruth_round_trip(tmp_path, space):
    truth = small_truth(space)
    path, _ = write_truth(tmp_path, space, truth)
    back = load_groundtruth(path)
    assert back.archs == truth.archs
    np.testing.assert_allclose(back.seeds, truth.seeds)
    np.testing.assert_allclose(back.accuracy, truth.seeds.mean(1))


@pytest.mark.parametrize("edit, match", [
    (lambda t: t.drop(columns="flops"), "expected the columns 'arch', 'flops'"),
    (lambda t: t.assign(acc_seed1=[np.nan] + [70.0] * (len(t) - 1)), "row 0: acc_seed1"),
    (lambda t: t.assign(acc_seed0=[101.0] * len(t)), r"finite accuracy in \[0, 100\]"),
    (lambda t: pd.concat([t, t.iloc[:1]]), "appears twice"),
    (lambda t: t.assign(arch=["9" * 5] + list(t["arch"][1:])), "row 0"),
    (lambda t: t.assign(flops=t["flops"] + 1), "disagrees with the cost model"),
])
def test_load_groundtruth_refuses_bad_tables(tmp_path, space, edit, match):
    path, table = write_truth(tmp_path, space, small_truth(space))
    edit(table).to_csv(path, index=False)
    with pytest.raises(ValueError, match=match):
        load_groundtruth(path)


def test_load_groundtruth_names_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="build_digits5v2_groundtruth"):
        load_groundtruth(tmp_path / "none.csv")


def test_noise_ceiling_and_agreement(space):
    truth = small_truth(space)
    agree = truth.seed_agreement()
    ceiling = truth.noise_ceiling()
    # truth levels are 1.8 points apart and the noise std 0.5: seeds agree far above chance
    assert agree["kendall"] > 0.5 and ceiling["kendall"] >= agree["kendall"] - 0.1
    perfect = GroundTruth(space, truth.archs, np.repeat(truth.seeds[:, :1], 3, 1), truth.flops)
    assert perfect.seed_agreement()["kendall"] == pytest.approx(1.0)
    assert perfect.noise_ceiling()["kendall"] == pytest.approx(1.0)


def test_ranking_report_perfect_and_reversed(space):
    truth = small_truth(space)
    acc = truth.accuracy
    good = ranking_report(acc, acc, truth.flops)
    bad = ranking_report(acc, -acc, truth.flops)
    assert good["kendall"] == pytest.approx(1) and bad["kendall"] == pytest.approx(-1)
    assert good["precision_at_top"] == 1 and bad["precision_at_top"] == 0


def test_curve_fractions_reach_ten_remaining():
    f = curve_fractions(243)
    assert f[0] == 0 and round((1 - f[-1]) * 243) == 10 and np.all(np.diff(f) > 0)
    assert round((1 - curve_fractions(5)[-1]) * 5) == 5  # fewer than 10: nothing pruned


def test_compare_supernets_end_to_end(tmp_path, space):
    torch.manual_seed(0)
    truth = small_truth(space, n=8)
    train = Subset(load_perturbed_digits("train"), range(128))
    val = Subset(load_perturbed_digits("val"), range(64))
    result = compare_supernets({"a": uniform, "b": uniform}, truth, train, val, seeds=(0, 1),
                               epochs=1, recal_batches=1, progress=False)
    assert len(result.runs) == 4 and set(result.runs["variant"]) == {"a", "b"}
    for key, est in result.estimates.items():
        assert est.shape == (8,) and np.all((est >= 0) & (est <= 100))
    # the same variant and seed trains the same supernet: identical estimates
    np.testing.assert_array_equal(result.estimates["a", 0], result.estimates["b", 0])
    summary = result.summary()
    assert {"FLOPs alone", "noise ceiling (one seed vs the others)"} <= set(summary.index)
    assert summary.loc["a", "train_time_vs_first"] == 1.0
    assert summary.loc["b", "parameters_vs_first"] == 1.0
    assert list(result.self_consistency()["variant"]) == ["a", "b"]
    result.plot(tmp_path / "c.png")
    assert (tmp_path / "c.png").stat().st_size > 0


def test_compare_supernets_errors(space):
    truth = small_truth(space)
    data = load_perturbed_digits("val")
    with pytest.raises(TypeError, match="'variants' parameter of compare_supernets"):
        compare_supernets({}, truth, data, data)
    with pytest.raises(TypeError, match="'truth' parameter of compare_supernets"):
        compare_supernets({"u": uniform}, "gt.csv", data, data)
    with pytest.raises(ValueError, match="distinct seeds"):
        compare_supernets({"u": uniform}, truth, data, data, seeds=(1, 1))


def test_inter_choice_variants_end_to_end(space):
    torch.manual_seed(0)
    truth = small_truth(space, n=6)
    train = Subset(load_perturbed_digits("train"), range(128))
    val = Subset(load_perturbed_digits("val"), range(64))
    variants = {"plain": uniform,
                **{f"bias D={d} {k}": functools.partial(bias, depth=d, kind=k)
                   for d in (1, 2, 3) for k in ("joint", "shared")},
                "bias D=1 strict-fair": functools.partial(bias, sampler="strict_fair"),
                "split at 50%": functools.partial(split_weights, at=0.5)}
    for v in list(variants.values())[1:]:  # picklable: they can go to worker processes
        back = pickle.loads(pickle.dumps(v))
        assert back.func is v.func and back.keywords == v.keywords
    result = compare_supernets(variants, truth, train, val, seeds=(0,), epochs=1,
                               recal_batches=1, progress=False)
    assert list(result.runs["variant"]) == list(variants)
    params = result.runs.set_index("variant")["parameters"]
    assert params["bias D=1 shared"] < params["bias D=1 joint"] < params["bias D=2 joint"]
    assert params["plain"] < params["bias D=1 shared"] and params["plain"] < params["split at 50%"]
    for est in result.estimates.values():
        assert est.shape == (6,) and np.all((est >= 0) & (est <= 100))


def test_split_weights_variant_splits_at_its_share_of_training(space):
    train = Subset(load_perturbed_digits("train"), range(128))
    net = split_weights(space, train, 2, 0, at=0.5)
    assert net.config.split_weights_epoch == 1 and net.is_split
    with pytest.raises(ValueError, match=r"'at' parameter of split_weights must be a float in "
                                         r"\[0, 1\)"):
        split_weights(space, train, 2, 0, at=1.0)
    with pytest.raises(ValueError, match=r"'depth' parameter of bias must be an int in \[1, 3\]"):
        bias(space, train, 1, 0, depth=0)
    with pytest.raises(ValueError, match="'sampler' parameter of bias must be one of 'uniform', "
                                         "'strict_fair'"):
        bias(space, train, 1, 0, sampler="fair")


def test_only_convolutions_subspace(space):
    convs = drop_options(space)
    assert convs.num_options == (2,) * 5 and len(convs) == 32
    assert all("identity" not in o for o in convs.options)
    truth = small_truth(space, n=40)
    sub_truth = truth.restrict(convs)
    kept = [a for a in truth.archs if 0 not in a.choices]  # option 0 is the identity
    assert sub_truth.archs == kept and len(sub_truth.flops) == len(kept) > 0
    train = Subset(load_perturbed_digits("train"), range(128))
    val = Subset(load_perturbed_digits("val"), range(64))
    result = compare_supernets({"u": uniform}, sub_truth, train, val, seeds=(0,), epochs=1,
                               recal_batches=1, progress=False)
    assert result.estimates["u", 0].shape == (len(kept),)
    # a variant trained on the subspace never touches the identity options
    net = uniform(convs, train, 1, 0)
    fresh = build_supernet(convs, random_state=0)
    assert net.space is convs
    assert all(torch.equal(p, q) for p, q in zip(net.blocks[0][0].parameters(),
                                                 fresh.blocks[0][0].parameters()))
    assert any(not all(torch.equal(p, q) for p, q in zip(net.blocks[0][o].parameters(),
                                                         fresh.blocks[0][o].parameters()))
               for o in (1, 2))  # two steps: one or both convolutions trained
    with pytest.raises(ValueError, match="would leave layer 0 of 'digits5v2' without options"):
        drop_options(space, space.options[0])
    with pytest.raises(ValueError, match="'space' parameter of GroundTruth.restrict must be a "
                                         "subspace of the 'digits5v2' space. Got 'macro'"):
        truth.restrict(get_search_space("macro"))


CALLS = []


def counted_uniform(space, train_data, epochs, seed):
    CALLS.append(seed)
    return uniform(space, train_data, epochs, seed)


def test_compare_supernets_cache_reuses_runs_across_truths(tmp_path, space):
    sub = space.subspace([3, 4], space.from_str("12120"))                # 9 architectures
    archs = list(sub.enumerate())
    seeds = np.random.default_rng(1).normal(70, 2, (9, 2))
    full = GroundTruth(sub, archs, seeds, sub.cost("flops", archs))
    partial = GroundTruth(sub, archs[:5], seeds[:5], full.flops[:5])
    train = Subset(load_perturbed_digits("train"), range(64))
    val = Subset(load_perturbed_digits("val"), range(32))
    cache = tmp_path / "runs.jsonl"
    CALLS.clear()
    first = compare_supernets({"u": counted_uniform}, partial, train, val, seeds=(0, 1),
                              epochs=1, recal_batches=1, cache=cache, progress=False)
    assert CALLS == [0, 1] and len(cache.read_text().splitlines()) == 2
    second = compare_supernets({"u": counted_uniform}, full, train, val, seeds=(0, 1),
                               epochs=1, recal_batches=1, cache=cache, progress=False)
    assert CALLS == [0, 1]  # nothing retrained: the runs estimated every architecture
    np.testing.assert_array_equal(second.estimates["u", 0][:5], first.estimates["u", 0])
    # other settings are other runs; a torn last line is dropped and its run redone
    compare_supernets({"u": counted_uniform}, full, train, val, seeds=(0,), epochs=2,
                      recal_batches=1, cache=cache, progress=False)
    assert CALLS == [0, 1, 0]
    lines = cache.read_text().splitlines()
    cache.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:30])
    compare_supernets({"u": counted_uniform}, full, train, val, seeds=(0,), epochs=2,
                      recal_batches=1, cache=cache, progress=False)
    assert CALLS == [0, 1, 0, 0]
    cache.write_text("not json\n" + "\n".join(lines))
    with pytest.raises(ValueError, match="line 1: not JSON"):
        compare_supernets({"u": counted_uniform}, full, train, val, seeds=(0,), epochs=2,
                          recal_batches=1, cache=cache, progress=False)


def test_load_groundtruth_unreadable_files_give_one_line(tmp_path, space):
    import pickle

    path, _ = write_truth(tmp_path, space, small_truth(space))
    sidecar = path.with_suffix(".json")
    good = sidecar.read_text()
    sidecar.write_text(good[:-3])  # corrupted JSON
    with pytest.raises(ValueError) as info:
        load_groundtruth(path)
    assert "gt.json' is not a JSON file" in str(info.value) and "\n" not in str(info.value)
    sidecar.write_text(good)
    for data in (pickle.dumps({"arch": [1, 2]}), b""):  # a pickle saved as .csv, an empty file
        path.write_bytes(data)
        with pytest.raises(ValueError) as info:
            load_groundtruth(path)
        assert "gt.csv' is not a CSV table" in str(info.value), str(info.value)
        assert "\n" not in str(info.value)
