import copy
import functools
import itertools
import pickle

import numpy as np
import pytest
import torch
from torch.utils.data import Subset

from archgraph.spaces import get_search_space
from supernet import build_supernet
from supernet.data import load_perturbed_digits
from supernet.evaluator import SupernetEvaluator, weights_fingerprint
from supernet.gm_nas import (
    SplitTree,
    _balanced_partitions,
    _seed,
    cut_cost,
    few_shot,
    fit_split_tree,
    gm_nas,
    gradient_matching_matrix,
    min_cut_partition,
    num_balanced_partitions,
    random_balanced_partition,
    random_split,
    select_architecture,
    split_budget,
    successive_halving,
    validation_loss,
)
from supernet.samplers import UniformSampler
from supernet.splitting import gradient_matching_scores
from supernet.train import train

from .conftest import OPTIONS

# options 0 and 2 agree, and so do 1 and 3
HAND = np.array([[1.0, 0.1, 0.9, 0.2],
                 [0.1, 1.0, 0.3, 0.8],
                 [0.9, 0.3, 1.0, 0.0],
                 [0.2, 0.8, 0.0, 1.0]])


@pytest.fixture
def trained(tiny_space, tiny_data):
    net = build_supernet(tiny_space, random_state=0)
    train(net, tiny_data, 1, sampler=UniformSampler(tiny_space, 0), batch_size=16,
          progress=False)
    return net


def _planted(sizes, noise, seed):
    """Similarity 0.9 within planted groups, -0.2 across, plus symmetric noise."""
    label = np.repeat(np.arange(len(sizes)), sizes)
    rng = np.random.default_rng(seed)
    sim = np.where(label[:, None] == label[None, :], 0.9, -0.2)
    e = rng.normal(0, noise, sim.shape)
    sim = sim + (e + e.T) / 2
    np.fill_diagonal(sim, 1.0)
    perm = rng.permutation(len(label))
    sim = sim[np.ix_(perm, perm)]
    planted = tuple(sorted(tuple(sorted(np.flatnonzero(label[perm] == g).tolist()))
                           for g in range(len(sizes))))
    return sim, planted


# ---------------------------------------------------------------- min-cut


def test_min_cut_on_a_hand_made_matrix():
    groups, cost = min_cut_partition(HAND, 2)
    # the three balanced partitions cut 2.2 ({0,1}|{2,3}), 0.6 ({0,2}|{1,3}), 1.8 ({0,3}|{1,2})
    assert groups == ((0, 2), (1, 3)) and cost == pytest.approx(0.6)
    assert cut_cost(HAND, [[0, 1], [2, 3]]) == pytest.approx(2.2)
    assert cut_cost(HAND, groups, normalize=True) == pytest.approx(0.6 / 4)
    # one group per option: the mean pairwise similarity, the score of the exhaustive split
    groups, cost = min_cut_partition(HAND, 4)
    assert groups == ((0,), (1,), (2,), (3,)) and cost == pytest.approx(2.3)
    assert cut_cost(HAND, groups, normalize=True) == pytest.approx(2.3 / 6)
    assert min_cut_partition(HAND, 1) == (((0, 1, 2, 3),), 0.0)


def test_min_cut_unequal_groups_are_balanced():
    sim = np.full((5, 5), -0.5)
    for a, b in [(0, 1), (0, 4), (1, 4), (2, 3)]:
        sim[a, b] = sim[b, a] = 0.8
    np.fill_diagonal(sim, 1.0)
    groups, cost = min_cut_partition(sim, 2)
    assert groups == ((0, 1, 4), (2, 3)) and cost == pytest.approx(6 * -0.5)
    groups, _ = min_cut_partition(sim, 3)
    assert sorted(map(len, groups)) == [1, 2, 2] and (2, 3) in groups


@pytest.mark.parametrize("n, b", [(4, 2), (5, 2), (6, 3), (7, 3), (6, 4), (5, 5), (3, 1)])
def test_balanced_partitions_enumerated_once_each(n, b):
    found = [tuple(sorted(map(tuple, p))) for p in _balanced_partitions(n, b)]
    brute = {tuple(sorted(tuple(np.flatnonzero(np.array(lab) == g)) for g in range(b)))
             for lab in itertools.product(range(b), repeat=n)
             if max(np.bincount(lab, minlength=b)) - min(np.bincount(lab, minlength=b)) <= 1}
    assert len(found) == len(set(found)) == len(brute) == num_balanced_partitions(n, b)
    assert set(found) == brute
    assert num_balanced_partitions(12, 2) == 462 and num_balanced_partitions(12, 3) == 5775


def test_local_search_fallback_finds_planted_groups_and_never_beats_exhaustive():
    sim, planted = _planted([4, 4, 4], 0.1, seed=0)
    assert min_cut_partition(sim, 3, max_exhaustive=0)[0] == planted
    assert min_cut_partition(sim, 3)[0] == planted          # 5,775 partitions: exhaustive
    sim, planted = _planted([20, 20], 0.3, seed=1)           # far beyond exhaustive
    groups, cost = min_cut_partition(sim, 2)
    assert groups == planted and cost == pytest.approx(cut_cost(sim, planted))
    rng = np.random.default_rng(2)
    for _ in range(10):
        a = rng.uniform(-1, 1, (7, 7))
        sim = (a + a.T) / 2
        _, best_cost = min_cut_partition(sim, 3)
        groups, cost = min_cut_partition(sim, 3, max_exhaustive=0)
        assert sorted(map(len, groups)) == [2, 2, 3] and sorted(sum(groups, ())) == list(range(7))
        assert cost >= best_cost - 1e-9 and cost == pytest.approx(cut_cost(sim, groups))


def test_random_balanced_partition():
    groups = random_balanced_partition(7, 3, 0)
    assert sorted(map(len, groups)) == [2, 2, 3] and sorted(sum(groups, ())) == list(range(7))
    assert random_balanced_partition(7, 3, 0) == groups
    assert len({random_balanced_partition(6, 2, s) for s in range(30)}) > 3


# ---------------------------------------------------------------- gradient matching


def test_matrix_properties_and_agreement_with_scores(trained, tiny_data):
    before = {k: v.clone() for k, v in trained.state_dict().items()}
    mats = [gradient_matching_matrix(trained, tiny_data, l, batch_size=16) for l in range(3)]
    for m in mats:
        assert m.shape == (3, 3) and np.array_equal(m, m.T) and np.all(np.diag(m) == 1)
        assert np.all((-1 <= m) & (m <= 1)) and np.all(np.abs(m - np.eye(3)).sum(1) > 0)
    np.testing.assert_array_equal(gradient_matching_matrix(trained, tiny_data, 2,
                                                           batch_size=16), mats[2])
    scores = gradient_matching_scores(trained, tiny_data, batch_size=16)
    np.testing.assert_allclose(scores, [m[np.triu_indices(3, 1)].mean() for m in mats],
                               rtol=0, atol=1e-12)
    assert all(torch.equal(before[k], v) for k, v in trained.state_dict().items())


def test_matrix_of_a_sub_supernet_is_over_its_options(trained, tiny_space, tiny_data):
    # options 0 and 2 of layer 1 become copies of each other: their gradients match exactly
    trained.blocks[1][0] = copy.deepcopy(trained.blocks[1][2])
    full = gradient_matching_matrix(trained, tiny_data, 1, batch_size=16)
    assert full[0, 2] == pytest.approx(1.0, abs=1e-6) and full[0, 1] < 1 - 1e-3
    tree = SplitTree(trained)
    tree.split(0, 1, [(0, 2), (1,)])
    leaf = tree.supernets[0]
    assert list(tree.partition(0).options[1]) == [OPTIONS[0], OPTIONS[2]]
    sub = gradient_matching_matrix(leaf, tiny_data, 1, batch_size=16)
    assert sub.shape == (2, 2) and sub[0, 1] == pytest.approx(1.0, abs=1e-6)
    assert gradient_matching_matrix(tree.supernets[1], tiny_data, 1).shape == (1, 1)


# ---------------------------------------------------------------- the tree


def test_ownership_is_unique_and_complete(trained, tiny_space):
    tree = SplitTree(trained)
    assert tree.split(0, 1, [(0, 2), (1,)]) == [0, 1]
    assert tree.split(0, 0, [(0,), (1, 2)]) == [0, 1]        # leaf {l1 in 0,2}, split on l0
    assert tree.split(1, 1, [(0,), (2,)]) == [1, 2]          # the same layer, split again
    assert tree.split(3, 2, [(0, 1), (2,)]) == [3, 4]        # leaf {l1 = 1}
    parts = [set(tree.partition(k).enumerate()) for k in range(len(tree.supernets))]
    assert len(parts) == 5 and sum(map(len, parts)) == len(tiny_space) == 27
    for arch in tiny_space.enumerate():
        owners = [k for k, p in enumerate(parts) if arch in p]
        assert owners == [tree.owner(arch)]
        assert arch in tree.partition(owners[0])
    other = next(a for a in tiny_space.enumerate() if tree.owner(a) != 0)
    with pytest.raises(ValueError, match="outside the subspace"):
        tree.supernets[0](torch.zeros(1, 1, 8, 8), other)  # a leaf refuses what it does not own


def test_split_copies_compute_what_the_parent_does(trained, tiny_space, tiny_data):
    tree = SplitTree(trained)
    tree.split(0, 2, [(0, 1), (2,)])
    x = tiny_data.tensors[0][:8]
    trained.eval()
    tree.eval()
    with torch.no_grad():
        for arch in tiny_space.sample(6, rng=0):
            out = tree(x, arch)
            torch.testing.assert_close(out, trained(x, arch), rtol=0, atol=0)
            torch.testing.assert_close(tree.extract_subnet(arch)(x), out)
    archs = tiny_space.sample(4, rng=1)
    np.testing.assert_array_equal(
        SupernetEvaluator(tree, tiny_data, tiny_data, recal_batches=2,
                          batch_size=16).evaluate(archs),
        SupernetEvaluator(trained, tiny_data, tiny_data, recal_batches=2,
                          batch_size=16).evaluate(archs))
    with torch.no_grad():
        tree.supernets[0].classifier.weight.add_(1.0)
    assert torch.equal(trained.classifier.weight, tree.supernets[1].classifier.weight)


def test_restart_reinitializes_the_leaves(tiny_space, tiny_data):
    net = build_supernet(tiny_space, random_state=0)
    kw = {"layers": [1], "batch_size": 16, "random_state": 3}
    root = fit_split_tree(net, tiny_data, (1,), **kw | {"layers": None}).supernets[0]
    kept = fit_split_tree(net, tiny_data, (1, 1), restart=False, **kw)
    fresh = fit_split_tree(net, tiny_data, (1, 1), restart=True, **kw)
    assert [n.layer for n in kept.nodes] == [n.layer for n in fresh.nodes] == [1, None, None]
    for k in range(2):
        own = kept.nodes[kept.leaves[k]].options[1]
        for o in set(range(3)) - set(own):  # options a leaf never trains
            inherited = kept.supernets[k].blocks[1][o].state_dict()
            restarted = fresh.supernets[k].blocks[1][o].state_dict()
            for name, v in root.blocks[1][o].state_dict().items():
                assert torch.equal(inherited[name], v)
                if v.dim() > 1:  # convolution weights: drawn afresh
                    assert not torch.equal(restarted[name], v)
    # a restart is a fresh initialization, the same for the same seed, independent per leaf
    tree = SplitTree(net)
    tree.split(0, 0, [(0,), (1, 2)])
    before = [weights_fingerprint(s) for s in tree.supernets]
    assert before[0] == before[1]
    tree.reinitialize(5)
    after = [weights_fingerprint(s) for s in tree.supernets]
    assert after[0] != after[1] and not set(after) & set(before)
    tree.reinitialize(5)
    assert [weights_fingerprint(s) for s in tree.supernets] == after
    assert tree.partition(1).options[0] == (OPTIONS[1], OPTIONS[2])


@pytest.mark.parametrize("num_groups", [2, None])
def test_fit_splits_the_layer_of_lowest_normalized_cut(num_groups, tiny_space, tiny_data):
    net = build_supernet(tiny_space, random_state=0)
    root = fit_split_tree(net, tiny_data, (1,), batch_size=16).supernets[0]  # same seeds
    tree = fit_split_tree(net, tiny_data, (1, 1), num_groups=num_groups, batch_size=16,
                          score_batch_size=16, restart=False)
    mats = [gradient_matching_matrix(root, tiny_data, l, batch_size=16,
                                     random_state=_seed(0, 0, 4)) for l in range(3)]
    best = [min_cut_partition(m, num_groups or 3)[0] for m in mats]
    costs = [cut_cost(m, g, normalize=True) for m, g in zip(mats, best)]
    node = tree.nodes[0]
    assert node.layer == int(np.argmin(costs)) and node.cost == pytest.approx(min(costs))
    np.testing.assert_array_equal(node.similarity, mats[node.layer])
    assert tuple(tree.nodes[c].options[node.layer] for c in node.children) == best[node.layer]
    assert len(tree.supernets) == (num_groups or 3) and tree.passes == 1 + len(tree.supernets)
    if num_groups is None:  # the exhaustive split takes the layer gradient_matching_scores picks
        scores = gradient_matching_scores(root, tiny_data, batch_size=16,
                                          random_state=_seed(0, 0, 4))
        assert node.layer == int(np.argmin(scores))


def test_deeper_and_random_splits(tiny_space, tiny_data):
    net = build_supernet(tiny_space, random_state=0)
    tree = fit_split_tree(net, tiny_data, (1, 0, 1), num_groups=2, batch_size=16)
    assert len(tree.supernets) == 4 and tree.passes == 1 + 4
    for node in tree.nodes:
        if node.children:
            own = node.options[node.layer]
            local = [[own.index(o) for o in tree.nodes[c].options[node.layer]]
                     for c in node.children]
            assert node.similarity.shape == (len(own),) * 2
            assert min_cut_partition(node.similarity, 2)[0] == tuple(map(tuple, local))
    rand = fit_split_tree(net, tiny_data, (1, 1, 1), num_groups=2, partition="random",
                          batch_size=16)
    assert len(rand.supernets) == 4 and rand.passes == 1 + 2 + 4
    assert all(n.similarity is None for n in rand.nodes)
    layers = {fit_split_tree(net, tiny_data, (0, 1), partition="random", batch_size=16,
                             random_state=s).nodes[0].layer for s in range(8)}
    assert len(layers) > 1


# ---------------------------------------------------------------- final selection


def _fake(quality, noise):
    calls = []

    def evaluate(archs, rung):  # noise shrinks as the budget grows
        calls.append((list(archs), rung))
        return [quality[a] + noise[a] / (rung + 1) ** 2 for a in archs]

    return evaluate, calls


def test_successive_halving_keeps_the_right_candidates():
    rng = np.random.default_rng(0)
    quality, noise = rng.uniform(0, 1, 27), rng.uniform(-1, 1, 27)
    evaluate, calls = _fake(quality, noise)
    result = successive_halving(range(27), evaluate, eta=3)
    assert [len(a) for a, _ in calls] == [27, 9, 3] and [r for _, r in calls] == [0, 1, 2]
    survivors = list(range(27))
    for rung, (archs, scores) in enumerate(result.rungs):
        assert archs == survivors
        expect = quality[archs] + noise[archs] / (rung + 1) ** 2
        np.testing.assert_allclose(scores, expect)
        keep = -(-len(archs) // 3)
        survivors = [archs[i] for i in np.argsort(-expect, kind="stable")[:keep]]
        assert set(survivors) == set(np.array(archs)[expect >= np.sort(expect)[-keep]])
    assert result.ranking == survivors and result.best == survivors[0]
    # a noisy early leader is dropped later: the result is not the first rung's winner
    assert result.best != int(np.argmax(quality + noise))
    result = successive_halving(list(range(10)), _fake(quality, noise)[0], eta=2,
                                min_survivors=2)
    assert [len(a) for a, _ in result.rungs] == [10, 5, 3] and len(result.ranking) == 2
    assert successive_halving(["only"], lambda a, r: 1 / 0).best == "only"
    ties = successive_halving([3, 1, 2], lambda a, r: [0.0] * len(a), eta=3)
    assert ties.best == 3


def test_select_architecture_and_validation_loss(trained, tiny_space, tiny_data):
    tree = SplitTree(trained)
    tree.split(0, 0, [(0, 1), (2,)])
    sel = select_architecture(tree, 4, tiny_data, tiny_data, recal_batches=2, batch_size=16)
    first = sel.rungs[0][0]
    assert len(first) == 8 and {tree.owner(a) for a in first} == {0, 1}
    assert [len(a) for a, _ in sel.rungs] == [8, 3]  # ceil(log_3 8) = 2 rungs
    assert sel.best in first and sel.best == sel.ranking[0]
    archs = tiny_space.sample(5, rng=2)
    loss = validation_loss(tree, archs, tiny_data, tiny_data, recal_batches=2, batch_size=16)
    by_loss = select_architecture(tree, archs, tiny_data, tiny_data, method="val_loss",
                                  recal_batches=2, batch_size=16)
    assert by_loss.best == archs[int(np.argmin(loss))]
    np.testing.assert_array_equal(by_loss.rungs[0][1], -loss)
    # without recalibration: the supernet's own eval-mode loss
    x, y = tiny_data.tensors
    tree.eval()
    with torch.no_grad():
        direct = [torch.nn.functional.cross_entropy(tree(x, a), y).item() for a in archs]
    np.testing.assert_allclose(validation_loss(tree, archs, tiny_data, tiny_data,
                                               recal_batches=None), direct, rtol=1e-5)


# ---------------------------------------------------------------- budgets and variants


def test_split_budget_is_exact():
    assert split_budget(30, [2]) == (16, 7)
    assert split_budget(30, [2, 2]) == (10, 4, 3)
    assert split_budget(30, [3]) == (15, 5)
    assert split_budget(5, []) == (5,)
    for epochs in range(3, 60):
        for branching in ([2], [3], [2, 2], [2, 3, 2]):
            try:
                e = split_budget(epochs, branching, 0.3)
            except ValueError:
                assert epochs < 1 + sum(np.cumprod(branching))
                continue
            nodes = np.cumprod([1, *branching])
            assert int(np.dot(nodes, e)) == epochs and min(e) >= 1
    with pytest.raises(ValueError, match="'epochs' parameter of split_budget must be at least 7"):
        split_budget(6, [2, 2])


@pytest.fixture(scope="module")
def digits128():
    return Subset(load_perturbed_digits("train"), range(128))


def test_end_to_end_split_tree_on_digits5v2(digits128):
    space = get_search_space("digits5v2")
    tree = fit_split_tree(build_supernet(space, random_state=0), digits128, (1, 1), batch_size=32)
    assert len(tree.supernets) == 2 and tree.passes == 3
    archs = space.sample(6, rng=0)
    acc = SupernetEvaluator(tree, digits128, digits128, recal_batches=2).evaluate(archs)
    assert acc.shape == (6,) and np.all((0 <= acc) & (acc <= 100))
    assert {tree.owner(a) for a in space.enumerate()} == {0, 1}


@pytest.mark.parametrize("variant, leaves", [(gm_nas, 2), (few_shot, 3), (random_split, 2),
                                             (functools.partial(gm_nas, num_splits=2), 4)])
def test_variants_spend_exactly_their_budget(variant, leaves, digits128):
    space = get_search_space("digits5v2")
    pickle.dumps(variant)  # the harness sends variants to worker processes
    net = variant(space, digits128, 7, 0, batch_size=64, score_batches=1)
    assert isinstance(net, SplitTree) and len(net.supernets) == leaves and net.passes == 7


# ---------------------------------------------------------------- bad inputs


def test_bad_inputs(trained, tiny_space, tiny_data):
    with pytest.raises(ValueError, match="'similarity' parameter of min_cut_partition must "
                                         "be a non-empty square matrix. Got shape \\(2, 3\\)"):
        min_cut_partition(np.zeros((2, 3)), 2)
    with pytest.raises(ValueError, match="must be finite and symmetric"):
        min_cut_partition([[1, 0.5], [0.2, 1]], 2)
    with pytest.raises(ValueError, match=r"'num_groups' parameter of min_cut_partition must be "
                                         r"an int in \[1, 4\]. Got 5"):
        min_cut_partition(HAND, 5)
    with pytest.raises(ValueError, match="'groups' parameter of cut_cost must split the "
                                         "options 0..3"):
        cut_cost(HAND, [[0, 1], [1, 2, 3]])
    with pytest.raises(ValueError, match=r"'layer' parameter of gradient_matching_matrix must "
                                         r"be an int in \[0, 2\]. Got 3"):
        gradient_matching_matrix(trained, tiny_data, 3)
    with pytest.raises(TypeError, match="'supernet' parameter of gradient_matching_matrix"):
        gradient_matching_matrix("net", tiny_data, 0)
    tree = SplitTree(trained)
    with pytest.raises(ValueError, match="'groups' parameter of SplitTree.split must hold at "
                                         "least 2 groups"):
        tree.split(0, 1, [(0, 1, 2)])
    tree.split(0, 1, [(0,), (1, 2)])
    with pytest.raises(ValueError, match="must hold options of layer 1 owned by leaf 0, \\[0\\]"):
        tree.split(0, 1, [(1,), (2,)])
    with pytest.raises(ValueError, match=r"'k' parameter of SplitTree.partition must be an int "
                                         r"in \[0, 1\]. Got 2"):
        tree.partition(2)
    with pytest.raises(TypeError, match="'supernet' parameter of SplitTree must be a SuperNet"):
        SplitTree(torch.nn.Linear(2, 2))
    net = build_supernet(tiny_space, random_state=0)
    with pytest.raises(ValueError, match="'partition' parameter of fit_split_tree must be one "
                                         "of 'gradient_matching', 'random'"):
        fit_split_tree(net, tiny_data, (1, 1), partition="gm")
    with pytest.raises(ValueError, match="'layers' parameter of fit_split_tree must give one "
                                         "layer per split \\(2"):
        fit_split_tree(net, tiny_data, (1, 1, 1), layers=[0])
    with pytest.raises(ValueError, match="last entry of the 'epochs' parameter of "
                                         "fit_split_tree must be >= 1 with restart=True"):
        fit_split_tree(net, tiny_data, (1, 0))
    with pytest.raises(TypeError, match="'epochs' parameter of fit_split_tree must be a "
                                        "sequence of ints"):
        fit_split_tree(net, tiny_data, (1, 0.5))
    with pytest.raises(ValueError, match="'num_groups' parameter of fit_split_tree must be an "
                                         "int in \\[2, inf\\]. Got 1"):
        fit_split_tree(net, tiny_data, (1, 1), num_groups=1)
    with pytest.raises(TypeError, match=r"\['checkpoint'\] parameter\(s\) of train are not "
                                        r"supported by fit_split_tree"):
        fit_split_tree(net, tiny_data, (1, 1), checkpoint="tree.pt")
    with pytest.raises(ValueError, match="owns fewer than 4 options at any layer"):
        fit_split_tree(net, tiny_data, (0, 1), num_groups=4)
    with pytest.raises(ValueError, match="owns fewer than 2 options at layer 0"):
        fit_split_tree(net, tiny_data, (0, 0, 1), num_groups=None, layers=[0, 0],
                       partition="random")
    with pytest.raises(ValueError, match="'eta' parameter of successive_halving must be an int "
                                         "in \\[2, inf\\]. Got 1"):
        successive_halving([1, 2], lambda a, r: a, eta=1)
    with pytest.raises(ValueError, match="'evaluate' parameter of successive_halving must "
                                         "return one finite score per candidate \\(2\\)"):
        successive_halving([1, 2], lambda a, r: [0.0])
    with pytest.raises(ValueError, match="'candidates' parameter of successive_halving must "
                                         "hold at least one"):
        successive_halving([], lambda a, r: a)
    with pytest.raises(ValueError, match="'method' parameter of select_architecture must be "
                                         "one of 'successive_halving', 'val_loss'"):
        select_architecture(tree, 2, tiny_data, tiny_data, method="loss")
    with pytest.raises(ValueError, match="'layer' parameter of few_shot is needed when the "
                                         "layers have different numbers of options"):
        few_shot(tiny_space.subspace([0, 1], tiny_space.decode([[0, 0, 0]])[0])
                 .with_supercell([1, 2], tiny_space.sample(5, rng=0)), tiny_data, 4, 0)
    with pytest.raises(ValueError, match="'num_splits' parameter of gm_nas must be an int in "
                                         "\\[1, inf\\]. Got 0"):
        gm_nas(tiny_space, tiny_data, 4, 0, num_splits=0)
