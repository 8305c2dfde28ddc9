r"""GM-NAS: supernet splitting by gradient matching, in a tree (Hu et al., ICLR 2022).

Hu et al., "Generalizing Few-Shot NAS with Gradient Matching" (ICLR 2022,
https://arxiv.org/abs/2203.15207) split a warmed-up supernet into sub-supernets, like few-shot
NAS (Zhao et al., ICML 2021, https://arxiv.org/abs/2006.06863), but instead of giving every
option of a layer its own copy they group the options of a layer that *agree* on how to update
the shared weights:

1. :func:`gradient_matching_matrix`: for layer :math:`l` with options :math:`1..O`, the
   gradient :math:`g_o` of the loss w.r.t. the weights every option reaches (those outside
   layer :math:`l`), summed over a few batches, each with a random path whose layer :math:`l`
   is set to :math:`o` (the same batches and paths for every option); the
   :math:`O \times O` matrix :math:`S_{oo'} = \cos(g_o, g_{o'})`.
2. :func:`min_cut_partition`: the options of the layer split into :math:`B` balanced groups
   minimizing the cut cost :math:`\sum_{o \sim o' \text{ in different groups}} S_{oo'}`
   (exhaustive for small :math:`O`, as the paper does). The layer split is the one of lowest
   cut cost (:func:`cut_cost` with ``normalize=True``, see there).
3. :func:`fit_split_tree`: split, warm the children up on their own sub-spaces, score again,
   ... giving up to :math:`B^S` sub-supernets (the leaves of a :class:`SplitTree`), each owning
   a sub-space; an architecture is evaluated by the leaf that owns it. After the last split
   the leaves are re-initialized (*restart*, on by default as in the paper) and trained.
4. :func:`select_architecture`: the final architecture among candidates of all leaves, by
   :func:`successive_halving` or by lowest validation loss.

The same tree gives the baselines at the same number of sub-supernets: ``num_groups=None`` is
the exhaustive few-shot split (one group per option), ``partition="random"`` random balanced
partitions. :func:`gm_nas`, :func:`few_shot` and :func:`random_split` are the variants of the
comparison harness (:mod:`supernet.compare`), each dividing its budget of passes over the data
with :func:`split_budget`.

>>> net = build_supernet(space, random_state=0)
>>> tree = fit_split_tree(net, train_data, epochs=(16, 7), num_groups=2)   # 16 + 2 * 7 = 30
>>> SupernetEvaluator(tree, train_data, val_data).evaluate(archs)
>>> select_architecture(tree, 20, train_data, val_data).best
"""
from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset

from archgraph.spaces import ProductSpace, Subspace
from archgraph.utils.validation import check_fraction, check_int, check_one_of, check_random_state
from supernet.bn_recal import recalibrate_bn
from supernet.data import check_dataset
from supernet.evaluator import SupernetEvaluator, tensors_of
from supernet.factory import build_supernet
from supernet.samplers import UniformSampler
from supernet.supernet import SuperNet
from supernet.train import train

#: balanced partitions :func:`min_cut_partition` enumerates before it falls back to local search
MAX_EXHAUSTIVE = 20_000

PARTITIONS = ("gradient_matching", "random")
SELECTIONS = ("successive_halving", "val_loss")


def _check_supernet(supernet, owner: str, name: str = "supernet") -> None:
    if not isinstance(supernet, SuperNet):
        raise TypeError(f"The '{name}' parameter of {owner} must be a SuperNet. "
                        f"Got {type(supernet).__name__} instead.")


def _seed(random_state: int, *key: int) -> int:
    """An independent seed for ``key`` (e.g. a node and a purpose) under ``random_state``."""
    return int(np.random.SeedSequence([random_state, *key]).generate_state(1)[0])


# ---------------------------------------------------------------- gradient matching


def gradient_matching_matrix(supernet: SuperNet, data: Dataset, layer: int,
                             num_batches: int = 2, batch_size: int = 64,
                             random_state: int = 0) -> np.ndarray:
    r"""Gradient-matching similarity of the options of one layer (Hu et al., ICLR 2022).

    ``num_batches`` batches and as many random paths of ``supernet.space`` are drawn from
    ``random_state``; for option :math:`o` of ``layer``, every path has its ``layer`` set to
    :math:`o` and :math:`g_o` is the gradient of the cross-entropy w.r.t. the weights every
    option reaches on that path (found from the autograd graph: the weights outside the
    layer), summed over the batches. Entry :math:`(o, o')` is :math:`\cos(g_o, g_{o'})`.
    The same batches and paths serve every option, and every layer for the same
    ``random_state``, so layers are compared on equal terms.

    A sub-supernet that owns only some options of ``layer`` (its ``space`` a
    :class:`~archgraph.spaces.Subspace`, e.g. a leaf of a :class:`SplitTree`) gives the
    matrix over those options, in the order of its space, with the other layers sampled from
    its own sub-space. The supernet runs in train mode, as in training; its weights,
    gradients, BatchNorm statistics and mode are left as they were.

    Args:
        supernet: a (warmed-up) :class:`~supernet.SuperNet`.
        data: ``Dataset`` of ``(image, label)`` pairs (e.g. the training split).
        layer: index of a layer of ``supernet.space``.
        num_batches: batches (>= 1; fewer if ``data`` ends), each with its own random path.
        batch_size: images per batch (>= 1).
        random_state: seed of the batches and paths.

    Returns:
        ``[O, O]`` float64 symmetric matrix in ``[-1, 1]`` with ones on the diagonal
        (``O = supernet.space.num_options[layer]``); a zero gradient has similarity 0 to the
        others.
    """
    owner = "gradient_matching_matrix"
    _check_supernet(supernet, owner)
    space = supernet.space
    layer = check_int(layer, "layer", owner, 0, space.num_layers - 1)
    num_batches = check_int(num_batches, "num_batches", owner, low=1)
    batch_size = check_int(batch_size, "batch_size", owner, low=1)
    random_state = check_int(random_state, "random_state", owner, low=0)
    check_dataset(data, supernet.config, "data", owner)

    loader = DataLoader(data, batch_size=batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(random_state))
    batches = [b for _, b in zip(range(num_batches), loader)]
    paths = space.encode(space.sample(len(batches), check_random_state(random_state),
                                      replace=True))              # [num_batches, L]
    num_options = space.num_options[layer]
    params = [p for p in supernet.parameters() if p.requires_grad]
    buffers = [b.detach().clone() for b in supernet.buffers()]
    was_training = supernet.training
    criterion = nn.CrossEntropyLoss()
    grads = [[torch.zeros_like(p) for p in params] for _ in range(num_options)]  # g_o
    supernet.train()
    try:
        for (x, y), path in zip(batches, paths):
            per_option = []
            for o in range(num_options):
                choices = path.copy()
                choices[layer] = o                                  # differs only at `layer`
                arch = space.decode(choices[None])[0]
                loss = criterion(supernet(x, arch), y)
                per_option.append(torch.autograd.grad(loss, params, allow_unused=True))
            # weights outside the layer: reached by every option on this path
            shared = [k for k in range(len(params)) if all(g[k] is not None for g in per_option)]
            for g_o, g in zip(grads, per_option):
                for k in shared:
                    g_o[k] += g[k]
    finally:
        with torch.no_grad():
            for b, saved in zip(supernet.buffers(), buffers):
                b.copy_(saved)
        supernet.train(was_training)
    flat = [torch.cat([g.reshape(-1) for g in g_o]).double() for g_o in grads]  # [num_params]
    sim = np.eye(num_options)
    for a, b in itertools.combinations(range(num_options), 2):
        sim[a, b] = sim[b, a] = _cosine(flat[a], flat[b])
    return np.clip(sim, -1.0, 1.0)


def _cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    norm = (a.norm() * b.norm()).item()
    return float(torch.dot(a, b).item() / norm) if norm > 0 else 0.0


# ---------------------------------------------------------------- balanced min-cut


def _check_similarity(similarity, owner: str) -> np.ndarray:
    try:
        sim = np.asarray(similarity, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"The 'similarity' parameter of {owner} must be a square matrix of "
                        f"numbers. Got {type(similarity).__name__} instead.") from exc
    if sim.ndim != 2 or sim.shape[0] != sim.shape[1] or not len(sim):
        raise ValueError(f"The 'similarity' parameter of {owner} must be a non-empty square "
                         f"matrix. Got shape {sim.shape} instead.")
    if not np.all(np.isfinite(sim)) or not np.allclose(sim, sim.T):
        raise ValueError(f"The 'similarity' parameter of {owner} must be finite and "
                         f"symmetric. Got {sim.tolist()} instead.")
    return sim


def _check_groups(groups, num_options: int, owner: str) -> tuple[tuple[int, ...], ...]:
    try:
        groups = tuple(tuple(int(o) for o in g) for g in groups)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"The 'groups' parameter of {owner} must be a sequence of sequences of "
                        f"option indices. Got {groups!r} instead.") from exc
    if sorted(o for g in groups for o in g) != list(range(num_options)) or not all(groups):
        raise ValueError(f"The 'groups' parameter of {owner} must split the options "
                         f"0..{num_options - 1} into non-empty groups, each option in exactly "
                         f"one. Got {[list(g) for g in groups]} instead.")
    return groups


def _canonical(groups) -> tuple[tuple[int, ...], ...]:
    return tuple(sorted(tuple(sorted(int(o) for o in g)) for g in groups))


def cut_cost(similarity, groups, normalize: bool = False) -> float:
    r"""Cut cost of ``groups`` (Hu et al., ICLR 2022): the sum of ``similarity`` over the
    pairs of options in different groups, :math:`\sum_{o < o',\, g(o) \ne g(o')} S_{oo'}`.

    Args:
        similarity: ``[O, O]`` symmetric matrix (e.g. :func:`gradient_matching_matrix`).
        groups: a partition of ``0..O-1`` (sequence of sequences of option indices).
        normalize: divide by the number of cut pairs: the mean similarity across groups, in
            ``[-1, 1]`` for cosines. Layers with different numbers of options have different
            numbers of cut pairs, so this is the cost that compares them (for equal ``O`` and
            group sizes it orders layers as the raw cost does). For the exhaustive split (one
            group per option) it is the layer's mean pairwise cosine, the score of
            :func:`supernet.splitting.gradient_matching_scores`. One group cuts nothing: 0.

    Returns:
        The cost (float).
    """
    owner = "cut_cost"
    sim = _check_similarity(similarity, owner)
    groups = _check_groups(groups, len(sim), owner)
    label = np.empty(len(sim), dtype=np.int64)
    for k, g in enumerate(groups):
        label[list(g)] = k
    cut = label[:, None] != label[None, :]                            # [O, O]
    cost = float(sim[cut].sum() / 2)
    if normalize:
        pairs = int(cut.sum()) // 2
        return cost / pairs if pairs else 0.0
    return cost


def _group_sizes(num_options: int, num_groups: int) -> list[int]:
    small, extra = divmod(num_options, num_groups)
    return [small + 1] * extra + [small] * (num_groups - extra)


def num_balanced_partitions(num_options: int, num_groups: int) -> int:
    """Number of partitions of ``num_options`` options into ``num_groups`` unlabeled groups
    whose sizes differ by at most 1 (what :func:`min_cut_partition` enumerates)."""
    owner = "num_balanced_partitions"
    num_options = check_int(num_options, "num_options", owner, low=1)
    num_groups = check_int(num_groups, "num_groups", owner, 1, num_options)
    sizes = _group_sizes(num_options, num_groups)
    extra = num_options % num_groups
    count = math.factorial(num_options)
    for s in sizes:
        count //= math.factorial(s)
    return count // (math.factorial(extra) * math.factorial(num_groups - extra))


def _balanced_partitions(num_options: int, num_groups: int):
    """Every balanced partition once (groups unlabeled): option ``i`` joins an open group or
    opens the next one, and sizes are pruned to the balanced multiset."""
    big, extra = _group_sizes(num_options, num_groups)[0], num_options % num_groups
    small = num_options // num_groups
    groups: list[list[int]] = []

    def place(i):
        if i == num_options:
            if len(groups) == num_groups:
                yield tuple(tuple(g) for g in groups)
            return
        full = sum(len(g) == big for g in groups) if extra else 0
        for g in groups:
            cap = big if (extra and (len(g) < small or full < extra)) else small
            if len(g) < cap:
                g.append(i)
                yield from place(i + 1)
                g.pop()
        if len(groups) < num_groups:
            groups.append([i])
            yield from place(i + 1)
            groups.pop()

    yield from place(0)


def min_cut_partition(similarity, num_groups: int, max_exhaustive: int = MAX_EXHAUSTIVE
                      ) -> tuple[tuple[tuple[int, ...], ...], float]:
    r"""Balanced partition of a layer's options minimizing the cut cost (Hu et al., ICLR 2022).

    The options ``0..O-1`` are split into ``num_groups`` groups whose sizes differ by at most
    one, minimizing :func:`cut_cost` (the sum of similarities between options in different
    groups): options whose gradients agree stay together and keep sharing weights.

    Exhaustive when there are at most ``max_exhaustive`` balanced partitions
    (:func:`num_balanced_partitions`; e.g. ``O = 12, B = 2``: 462; ``O = 12, B = 3``: 5,775), as
    the paper does for its small layers: the result is then optimal, ties broken by the first
    partition found (options in order). Beyond that, a local search: a spectral start (the
    options ordered by the Fiedler vector of the Laplacian :math:`D - S` of the matrix, cut
    into consecutive groups) improved by the best swap of two options between groups while
    one lowers the cost, which keeps the sizes balanced; it is a local optimum, not
    guaranteed optimal.

    Args:
        similarity: ``[O, O]`` symmetric matrix (e.g. :func:`gradient_matching_matrix`).
        num_groups: ``B`` in ``[1, O]``; ``B = O`` is the exhaustive few-shot split.
        max_exhaustive: largest number of partitions enumerated (>= 0).

    Returns:
        ``(groups, cost)``: the groups (tuples of option indices, each sorted, ordered by
        their first option) and their raw (unnormalized) cut cost.
    """
    owner = "min_cut_partition"
    sim = _check_similarity(similarity, owner)
    num_groups = check_int(num_groups, "num_groups", owner, 1, len(sim))
    max_exhaustive = check_int(max_exhaustive, "max_exhaustive", owner, low=0)
    n = len(sim)
    if num_balanced_partitions(n, num_groups) <= max_exhaustive:
        best, best_cost = None, np.inf
        for groups in _balanced_partitions(n, num_groups):
            cost = cut_cost(sim, groups)
            if cost < best_cost - 1e-12:
                best, best_cost = groups, cost
        return _canonical(best), float(best_cost)
    groups = _local_search(sim, num_groups)
    return _canonical(groups), cut_cost(sim, groups)


def _local_search(sim: np.ndarray, num_groups: int) -> list[list[int]]:
    n = len(sim)
    off = sim - np.diag(np.diag(sim))
    laplacian = np.diag(off.sum(1)) - off
    _, vecs = np.linalg.eigh(laplacian)
    order = np.argsort(vecs[:, 1], kind="stable") if n > 1 else np.arange(n)
    label = np.empty(n, dtype=np.int64)
    start = 0
    for k, size in enumerate(_group_sizes(n, num_groups)):
        label[order[start:start + size]] = k
        start += size
    while True:
        # to_group[i, g]: similarity of option i to the members of group g (itself excluded)
        to_group = np.stack([off[:, label == g].sum(1) for g in range(num_groups)], 1)
        own = to_group[np.arange(n), label]
        # swapping i and j (different groups) changes the within-group sum by `gain`
        gain = (to_group[np.arange(n)[:, None], label[None, :]] - off   # i joins j's group
                + to_group[np.arange(n)[None, :], label[:, None]] - off  # j joins i's group
                - own[:, None] - own[None, :])
        gain[label[:, None] == label[None, :]] = -np.inf
        i, j = np.unravel_index(int(np.argmax(gain)), gain.shape)
        if gain[i, j] <= 1e-12:  # the cut falls by the within-group gain
            break
        label[i], label[j] = label[j], label[i]
    return [list(np.flatnonzero(label == g)) for g in range(num_groups)]


def random_balanced_partition(num_options: int, num_groups: int, rng=None
                              ) -> tuple[tuple[int, ...], ...]:
    """A balanced partition of ``0..num_options-1`` into ``num_groups`` groups drawn uniformly
    at random with ``rng`` (the random-partition baseline of Hu et al., ICLR 2022)."""
    owner = "random_balanced_partition"
    num_options = check_int(num_options, "num_options", owner, low=1)
    num_groups = check_int(num_groups, "num_groups", owner, 1, num_options)
    perm = check_random_state(rng).permutation(num_options)
    bounds = np.cumsum([0, *_group_sizes(num_options, num_groups)])
    return _canonical(perm[a:b] for a, b in itertools.pairwise(bounds))


# ---------------------------------------------------------------- the tree of splits


@dataclass
class SplitNode:
    """A node of a :class:`SplitTree`.

    Attributes:
        options: per layer of the tree's space, the option indices this node owns.
        depth: number of splits above it (the root: 0).
        parent: index of its parent node (``None`` for the root).
        layer: the layer it was split on (``None`` for a leaf).
        children: indices of its children, one per group of options of ``layer``.
        similarity: the matrix the split was chosen with (over ``options[layer]``), if any.
        cost: the normalized cut cost of the split (:func:`cut_cost`), if measured.
    """

    options: tuple[tuple[int, ...], ...]
    depth: int = 0
    parent: int | None = None
    layer: int | None = None
    children: tuple[int, ...] = ()
    similarity: np.ndarray | None = field(default=None, repr=False)
    cost: float | None = None


class SplitTree(SuperNet):
    r"""A supernet split into a tree of sub-supernets, each owning a sub-space (Hu et al.,
    ICLR 2022, GM-NAS; Zhao et al., ICML 2021, few-shot NAS).

    The root owns every architecture of ``supernet.space``; :meth:`split` replaces a leaf by
    one child per group of options of a layer, each a copy of the leaf that owns the
    architectures whose choice at that layer is in its group. A leaf's sub-space is a
    :class:`~archgraph.spaces.Subspace` restricting every split layer to its group; it is
    the ``space`` of the leaf's supernet, so the leaf only accepts (and its sampler only
    draws) architectures it owns, and :func:`gradient_matching_matrix` on a leaf is over its
    own options. The leaves partition the space: :meth:`owner` follows the splits from the
    root, so every architecture has exactly one owner. :meth:`forward` and
    :meth:`extract_subnet` route to it; it works with :class:`~supernet.SupernetEvaluator`.
    Grow and train one with :func:`fit_split_tree`.

    Args:
        supernet: the root :class:`~supernet.SuperNet` (left untouched: the root leaf is a
            copy). Its space may be a root product space or a subspace of one.

    Attributes:
        space, config: those of ``supernet``.
        supernets: the leaves' supernets (``nn.ModuleList``), in depth-first order of the tree.
        nodes: the :class:`SplitNode` s, the root first.
        leaves: index in :attr:`nodes` of each leaf, aligned with :attr:`supernets`.
        log: one dict per training run of :func:`fit_split_tree` (``node``, ``depth``,
            ``epochs``, ``loss``).

    Shapes:
        ``forward(x, arch)``: ``[B, in_channels, R, R] -> [B, num_classes]``.
    """

    def __init__(self, supernet: SuperNet):
        _check_supernet(supernet, "SplitTree")
        nn.Module.__init__(self)  # no weights of its own: they are in the leaves
        self.space = supernet.space
        self.config = supernet.config
        space = self.space
        if isinstance(space, Subspace):
            self._parent, self._base, self._factors = space.parent, space.base, space.factors
        else:
            self._parent, self._base = space, space.decode(
                np.zeros((1, space.num_layers), dtype=np.int64))[0]
            self._factors = [((l,), [(c,) for c in range(o)])
                             for l, o in enumerate(space.num_options)]
        root = SplitNode(tuple(tuple(range(o)) for o in space.num_options))
        self.nodes = [root]
        self.leaves = [0]
        self.log: list[dict] = []
        leaf = self._copy(supernet)
        leaf.space = self._subspace(root.options)
        self.supernets = nn.ModuleList([leaf])

    def _copy(self, supernet: SuperNet) -> SuperNet:  # the spaces are shared, not copied
        return copy.deepcopy(supernet, memo={id(self.space): self.space,
                                             id(self._parent): self._parent})

    def _subspace(self, options) -> Subspace:
        space = self.space
        return Subspace(self._parent, self._base,
                        [(layers, [opts[i] for i in own])
                         for (layers, opts), own in zip(self._factors, options)],
                        names=list(space.layer_names),
                        option_names=[[space.options[l][i] for i in own]
                                      for l, own in enumerate(options)])

    def _check_leaf(self, k, owner: str) -> int:
        return check_int(k, "k", owner, 0, len(self.supernets) - 1)

    def partition(self, k: int) -> Subspace:
        """The sub-space owned by leaf ``k``."""
        return self.supernets[self._check_leaf(k, "SplitTree.partition")].space

    def owner(self, arch) -> int:
        """Index of the leaf (in :attr:`supernets`) owning ``arch`` (of :attr:`space`)."""
        codes = self.space.encode([arch])[0]                         # [L]
        n = 0
        while self.nodes[n].children:
            node = self.nodes[n]
            n = next(c for c in node.children
                     if codes[node.layer] in self.nodes[c].options[node.layer])
        return self.leaves.index(n)

    def split(self, k: int, layer: int, groups, similarity=None, cost: float | None = None
              ) -> list[int]:
        """Replace leaf ``k`` by one child per group of its options of ``layer``.

        Each child is a copy of the leaf (weights included: it inherits them) owning the
        architectures of the leaf whose choice at ``layer`` is in its group.

        Args:
            k: index of the leaf in :attr:`supernets`.
            layer: a layer of :attr:`space` where the leaf owns at least two options.
            groups: a partition of the leaf's options of ``layer`` (option indices of
                :attr:`space`) into at least two groups.
            similarity, cost: recorded on the node (see :class:`SplitNode`).

        Returns:
            The indices of the children in :attr:`supernets` (consecutive, where ``k`` was).
        """
        owner = "SplitTree.split"
        k = self._check_leaf(k, owner)
        layer = check_int(layer, "layer", owner, 0, self.space.num_layers - 1)
        n = self.leaves[k]
        node = self.nodes[n]
        own = node.options[layer]
        try:
            local = [[own.index(int(o)) for o in g] for g in groups]
        except (TypeError, ValueError):
            raise ValueError(f"The 'groups' parameter of {owner} must hold options of layer "
                             f"{layer} owned by leaf {k}, {list(own)}. Got {groups!r} "
                             f"instead.") from None
        local = _check_groups(local, len(own), owner)
        if len(local) < 2:
            raise ValueError(f"The 'groups' parameter of {owner} must hold at least 2 groups. "
                             f"Got {len(local)}.")
        node.layer, node.similarity, node.cost = layer, similarity, cost
        children, nets = [], []
        for g in local:
            options = list(node.options)
            options[layer] = tuple(own[i] for i in g)
            child = SplitNode(tuple(options), depth=node.depth + 1, parent=n)
            self.nodes.append(child)
            children.append(len(self.nodes) - 1)
            net = self._copy(self.supernets[k])
            net.space = self._subspace(child.options)
            nets.append(net)
        node.children = tuple(children)
        self.leaves[k:k + 1] = children
        leaves = list(self.supernets)
        self.supernets = nn.ModuleList(leaves[:k] + nets + leaves[k + 1:])
        return list(range(k, k + len(children)))

    def reinitialize(self, random_state: int = 0) -> None:
        """Restart (Hu et al.): give every leaf fresh weights, ``build_supernet(partition(k),
        config, random_state=...)`` with an independent seed per node drawn from
        ``random_state``; ownership is unchanged."""
        random_state = check_int(random_state, "random_state", "SplitTree.reinitialize", low=0)
        self.supernets = nn.ModuleList(
            build_supernet(net.space, self.config, random_state=_seed(random_state, n, 0))
            for n, net in zip(self.leaves, self.supernets))

    @property
    def passes(self) -> int:
        """Passes over the training data of every training run in :attr:`log`."""
        return sum(r["epochs"] for r in self.log)

    def forward(self, x: torch.Tensor, arch) -> torch.Tensor:
        return self.supernets[self.owner(arch)](x, arch)             # [B, num_classes]

    def extract_subnet(self, arch) -> nn.Module:
        return self.supernets[self.owner(arch)].extract_subnet(arch)

    def __repr__(self) -> str:
        splits = [(n.depth, n.layer) for n in self.nodes if n.children]
        return (f"SplitTree(space={self.space.name!r}, splits (depth, layer)={splits}, "
                f"num_supernets={len(self.supernets)})")


def _choose_split(leaf: SuperNet, options, data, num_groups, partition, layer, rng,
                  num_batches, batch_size, random_state, k):
    """(layer, groups of option indices of the tree's space, similarity, normalized cost)."""
    need = 2 if num_groups is None else num_groups
    cands = [l for l, own in enumerate(options) if len(own) >= need] if layer is None else (
        [layer] if len(options[layer]) >= need else [])
    if not cands:
        where = "any layer" if layer is None else f"layer {layer}"
        raise ValueError(f"Leaf {k} of the split tree owns fewer than {need} options at "
                         f"{where} (options {[list(o) for o in options]}), so it cannot be "
                         f"split into {'one group per option' if num_groups is None else need}"
                         f" groups; ask for fewer splits or groups.")
    if partition == "random":
        l = int(cands[rng.integers(len(cands))]) if layer is None else layer
        local = random_balanced_partition(len(options[l]), num_groups or len(options[l]), rng)
        sim = cost = None
    else:
        best = None
        for l in cands:
            m = gradient_matching_matrix(leaf, data, l, num_batches, batch_size, random_state)
            groups, _ = min_cut_partition(m, num_groups or len(m))
            c = cut_cost(m, groups, normalize=True)
            if best is None or c < best[3] - 1e-12:
                best = (l, groups, m, c)
        l, local, sim, cost = best
    return l, [tuple(options[l][i] for i in g) for g in local], sim, cost


def fit_split_tree(supernet: SuperNet, train_data: Dataset, epochs: Sequence[int], *,
                   num_groups: int | None = 2, partition: str = "gradient_matching",
                   layers: Sequence[int] | None = None, restart: bool = True,
                   sampler=UniformSampler, score_batches: int = 2, score_batch_size: int = 64,
                   random_state: int = 0, progress: bool = False,
                   **train_kwargs) -> SplitTree:
    r"""Grow and train a tree of sub-supernets (Hu et al., ICLR 2022, GM-NAS).

    ``len(epochs) - 1 = S`` splits: the root is trained ``epochs[0]`` epochs; then at each
    depth ``s = 1..S`` every leaf is split (its layer and groups chosen as below) and each
    child, a copy of its parent, is trained ``epochs[s]`` epochs on its own sub-space (the
    warm-up before the next split; the last depth is the final training of the leaves). With
    ``restart`` the leaves are re-initialized after the last split, before their final
    training, as in the paper. Training is :func:`~supernet.train.train` with
    ``sampler(partition, rng)``; every epoch of every node is one pass over ``train_data``, so
    a tree with ``B`` groups per split makes ``sum_s B**s * epochs[s]`` passes
    (:attr:`SplitTree.passes`; the few scoring batches of the gradient matching train nothing
    and are not counted).

    Splitting a leaf:

    - ``partition="gradient_matching"``: for each layer where the leaf owns at least
      ``num_groups`` options, :func:`gradient_matching_matrix` on the leaf and its
      :func:`min_cut_partition`; the layer of lowest *normalized* cut cost
      (:func:`cut_cost`, the mean similarity across groups, so layers with different numbers
      of options compare) is split, ties to the first layer.
    - ``partition="random"``: a layer drawn uniformly among those, and a random balanced
      partition (:func:`random_balanced_partition`).
    - ``num_groups=None``: the exhaustive few-shot split (Zhao et al., ICML 2021), one group
      per owned option; with gradient matching the layer is then the one of lowest mean
      pairwise cosine, as :func:`~supernet.splitting.gradient_matching_scores` chooses.

    Args:
        supernet: the root :class:`~supernet.SuperNet` (left untouched; ``epochs[0] = 0`` if
            it is already warmed up).
        train_data: ``Dataset`` of the training and of the gradient matching.
        epochs: epochs of each node at depth ``0..S`` (ints >= 0; the last >= 1 with
            ``restart``). Divide a budget with :func:`split_budget`.
        num_groups: groups per split ``B`` (>= 2), or ``None`` for one per option.
        partition: ``"gradient_matching"`` or ``"random"``.
        layers: the layer to split at each depth (``S`` layer indices), instead of choosing.
        restart: re-initialize the leaves after the last split.
        sampler: sampler class ``(space, rng)`` (``UniformSampler``, ``StrictFairSampler``).
        score_batches, score_batch_size: batches of :func:`gradient_matching_matrix`.
        random_state: seed of everything: data order, paths, scoring batches, random
            partitions and re-initialization, each node with its own stream.
        progress: progress bars of the training runs.
        **train_kwargs: other arguments of :func:`~supernet.train.train` (``batch_size``,
            ``lr``, ...; not ``checkpoint`` or ``stop_after``).

    Returns:
        The trained :class:`SplitTree`.
    """
    owner = "fit_split_tree"
    _check_supernet(supernet, owner)
    try:
        epochs = [check_int(e, "epochs", owner, low=0) for e in epochs]
    except TypeError:
        raise TypeError(f"The 'epochs' parameter of {owner} must be a sequence of ints >= 0 "
                        f"(epochs of each node at depth 0..S). Got {epochs!r} instead.") from None
    if not epochs:
        raise ValueError(f"The 'epochs' parameter of {owner} must hold at least one entry "
                         f"(the root's epochs). Got {epochs!r} instead.")
    num_splits = len(epochs) - 1
    if num_groups is not None:
        num_groups = check_int(num_groups, "num_groups", owner, low=2)
    check_one_of(partition, "partition", PARTITIONS, owner)
    space = supernet.space
    if layers is not None:
        layers = [check_int(l, "layers", owner, 0, space.num_layers - 1) for l in layers]
        if len(layers) != num_splits:
            raise ValueError(f"The 'layers' parameter of {owner} must give one layer per "
                             f"split ({num_splits}, from 'epochs'). Got {layers} instead.")
    if not isinstance(restart, bool):
        raise TypeError(f"The 'restart' parameter of {owner} must be a bool. "
                        f"Got {restart!r} instead.")
    if restart and num_splits and epochs[-1] < 1:
        raise ValueError(f"The last entry of the 'epochs' parameter of {owner} must be >= 1 "
                         f"with restart=True (the re-initialized leaves must be trained). "
                         f"Got {epochs} instead.")
    score_batches = check_int(score_batches, "score_batches", owner, low=1)
    score_batch_size = check_int(score_batch_size, "score_batch_size", owner, low=1)
    random_state = check_int(random_state, "random_state", owner, low=0)
    check_dataset(train_data, supernet.config, "train_data", owner)
    unsupported = sorted({"checkpoint", "stop_after"} & set(train_kwargs))
    if unsupported:
        raise TypeError(f"The {unsupported} parameter(s) of train are not supported by {owner} "
                        f"(every node of the tree trains its full epochs, without checkpoints).")

    tree = SplitTree(supernet)
    rng = np.random.default_rng(_seed(random_state, 0, 1))  # of the random partitions

    def fit(k: int) -> None:
        n = tree.leaves[k]
        if epochs[tree.nodes[n].depth]:
            hist = train(tree.supernets[k], train_data, epochs[tree.nodes[n].depth],
                         sampler=sampler(tree.partition(k),
                                         np.random.default_rng(_seed(random_state, n, 2))),
                         random_state=_seed(random_state, n, 3), progress=progress,
                         **train_kwargs)
            tree.log.append({"node": n, "depth": tree.nodes[n].depth,
                             "epochs": epochs[tree.nodes[n].depth], "loss": hist[-1]["loss"]})

    fit(0)
    for depth in range(1, num_splits + 1):
        k = 0
        while k < len(tree.supernets):
            n = tree.leaves[k]
            layer, groups, sim, cost = _choose_split(
                tree.supernets[k], tree.nodes[n].options, train_data, num_groups, partition,
                None if layers is None else layers[depth - 1], rng, score_batches,
                score_batch_size, _seed(random_state, n, 4), k)
            k += len(tree.split(k, layer, groups, sim, cost))
        if depth == num_splits and restart:
            tree.reinitialize(_seed(random_state, 0, 5))
        for k in range(len(tree.supernets)):
            fit(k)
    return tree


# ---------------------------------------------------------------- final selection


@dataclass
class Selection:
    """What :func:`successive_halving` or :func:`select_architecture` kept.

    Attributes:
        best: the selected candidate.
        ranking: the final candidates, best first (the last rung's survivors, or all
            candidates for a single rung).
        rungs: per rung, ``(candidates, scores)`` as evaluated (higher is better).
    """

    best: object
    ranking: list
    rungs: list = field(default_factory=list, repr=False)


def successive_halving(candidates: Sequence, evaluate: Callable, *, eta: int = 3,
                       min_survivors: int = 1) -> Selection:
    """Successive halving (Jamieson & Talwalkar, AISTATS 2016), as GM-NAS selects its final
    architecture among the candidates of all sub-supernets (Hu et al., ICLR 2022).

    Rung ``r = 0, 1, ...`` scores the surviving candidates with ``evaluate(candidates, r)``
    (the budget of the evaluation grows with ``r``) and keeps the best
    ``max(min_survivors, ceil(n / eta))`` of them (ties to the earlier candidate), until at most
    ``min_survivors`` remain; those are the result, best first.

    Args:
        candidates: the candidates (e.g. architectures), at least one.
        evaluate: ``evaluate(candidates, rung) -> scores`` (one float per candidate, higher is
            better).
        eta: reduction factor (>= 2).
        min_survivors: candidates kept at the end (>= 1).

    Returns:
        a :class:`Selection`.
    """
    owner = "successive_halving"
    survivors = list(candidates)
    if not survivors:
        raise ValueError(f"The 'candidates' parameter of {owner} must hold at least one "
                         f"candidate. Got none.")
    if not callable(evaluate):
        raise TypeError(f"The 'evaluate' parameter of {owner} must be a callable "
                        f"(candidates, rung) -> scores. Got {type(evaluate).__name__} instead.")
    eta = check_int(eta, "eta", owner, low=2)
    min_survivors = check_int(min_survivors, "min_survivors", owner, low=1)
    rungs = []
    while len(survivors) > min_survivors:
        scores = np.asarray(evaluate(list(survivors), len(rungs)), dtype=np.float64)
        if scores.shape != (len(survivors),) or not np.all(np.isfinite(scores)):
            raise ValueError(f"The 'evaluate' parameter of {owner} must return one finite "
                             f"score per candidate ({len(survivors)}) at rung {len(rungs)}. "
                             f"Got {scores.tolist()} instead.")
        rungs.append((list(survivors), scores))
        keep = max(min_survivors, math.ceil(len(survivors) / eta))
        order = np.argsort(-scores, kind="stable")[:keep]
        survivors = [survivors[i] for i in order]
    return Selection(survivors[0], survivors, rungs)


def validation_loss(supernet: SuperNet, archs: Sequence, train_data: Dataset,
                    val_data: Dataset, recal_batches: int | None = 10, batch_size: int = 256,
                    random_state: int = 0) -> np.ndarray:
    """Mean cross-entropy ``[len(archs)]`` of each architecture on ``val_data`` under the
    shared weights, each evaluated as :class:`~supernet.SupernetEvaluator` does (BatchNorm
    recalibrated on the same ``recal_batches`` training batches, eval mode) on a copy
    (:meth:`~supernet.SuperNet.extract_subnet`), so ``supernet`` is left untouched."""
    owner = "validation_loss"
    _check_supernet(supernet, owner)
    if recal_batches is not None:
        recal_batches = check_int(recal_batches, "recal_batches", owner, low=1)
    batch_size = check_int(batch_size, "batch_size", owner, low=1)
    archs = list(archs)
    supernet.space.encode(archs)  # validate every architecture before any work
    check_dataset(val_data, supernet.config, "val_data", owner)
    x, y = tensors_of(val_data)                                      # [N, C, R, R], [N]
    recal = []
    if recal_batches is not None:
        loader = DataLoader(train_data, batch_size=batch_size, shuffle=True,
                            generator=torch.Generator().manual_seed(random_state))
        recal = [b[0] for _, b in zip(range(recal_batches), loader)]
    out = np.empty(len(archs))
    for i, arch in enumerate(archs):
        net = supernet.extract_subnet(arch)
        if recal:
            recalibrate_bn(net, recal, len(recal))
        net.eval()
        with torch.no_grad():
            total = sum(nn.functional.cross_entropy(net(x[j:j + batch_size]),
                                                    y[j:j + batch_size], reduction="sum").item()
                        for j in range(0, len(y), batch_size))
        out[i] = total / len(y)
    return out


def select_architecture(supernet: SuperNet, candidates, train_data: Dataset,
                        val_data: Dataset, *, method: str = "successive_halving", eta: int = 3,
                        recal_batches: int | None = 10, batch_size: int = 256,
                        random_state: int = 0) -> Selection:
    """The final architecture of a (split) supernet (Hu et al., ICLR 2022).

    Candidates are given, or ``candidates`` (an int) architectures drawn from every leaf's
    sub-space of a :class:`SplitTree` (all of a smaller one; from the whole space for an
    unsplit supernet). With ``method="successive_halving"`` (:func:`successive_halving`), rung
    ``r`` of ``R`` scores accuracy (%) under the shared weights
    (:class:`~supernet.SupernetEvaluator`, BatchNorm recalibrated) on a fixed random subset of
    ``ceil(N / eta**(R - 1 - r))`` of the ``N`` validation images, so the last rung sees them
    all; with ``"val_loss"`` every candidate's :func:`validation_loss` on all of them ranks
    them, lowest first.

    Args:
        supernet: a trained :class:`~supernet.SuperNet` or :class:`SplitTree`.
        candidates: a sequence of architectures, or an int >= 1 per sub-supernet.
        train_data, val_data: recalibration and validation data.
        method: ``"successive_halving"`` or ``"val_loss"``.
        eta: reduction factor of successive halving (>= 2).
        recal_batches, batch_size: as in :class:`~supernet.SupernetEvaluator`.
        random_state: seed of the candidates, the validation subsets and the recalibration
            batches.

    Returns:
        a :class:`Selection` (its scores: accuracies, or negated losses for ``"val_loss"``).
    """
    owner = "select_architecture"
    _check_supernet(supernet, owner)
    check_one_of(method, "method", SELECTIONS, owner)
    eta = check_int(eta, "eta", owner, low=2)
    random_state = check_int(random_state, "random_state", owner, low=0)
    rng = np.random.default_rng(random_state)
    if isinstance(candidates, (int, np.integer)) and not isinstance(candidates, bool):
        per = check_int(candidates, "candidates", owner, low=1)
        spaces = ([supernet.partition(k) for k in range(len(supernet.supernets))]
                  if isinstance(supernet, SplitTree) else [supernet.space])
        candidates = [a for s in spaces for a in s.sample(min(per, len(s)), rng)]
    candidates = list(candidates)
    if not candidates:
        raise ValueError(f"The 'candidates' parameter of {owner} must hold at least one "
                         f"architecture. Got none.")
    supernet.space.encode(candidates)
    check_dataset(val_data, supernet.config, "val_data", owner)
    if method == "val_loss":
        loss = validation_loss(supernet, candidates, train_data, val_data, recal_batches,
                               batch_size, random_state)
        order = np.argsort(loss, kind="stable")
        return Selection(candidates[order[0]], [candidates[i] for i in order],
                         [(candidates, -loss)])
    n = len(val_data)
    perm = rng.permutation(n)
    num_rungs = max(1, math.ceil(math.log(len(candidates), eta) - 1e-9))

    def evaluate(archs, rung):
        size = min(n, math.ceil(n / eta ** (num_rungs - 1 - rung)))
        subset = Subset(val_data, perm[:size].tolist())
        return SupernetEvaluator(supernet, train_data, subset, recal_batches=recal_batches,
                                 batch_size=batch_size, random_state=random_state
                                 ).evaluate(archs)

    return successive_halving(candidates, evaluate, eta=eta)


# ---------------------------------------------------------------- variants of the harness


def split_budget(epochs: int, branching: Sequence[int], warmup_fraction: float = 0.5
                 ) -> tuple[int, ...]:
    r"""Divide a budget of ``epochs`` passes over the data among the stages of a split tree.

    With ``branching = (B_1, ..., B_S)`` (children per split at each depth) the tree has
    :math:`n_s = B_1 \cdots B_s` nodes at depth :math:`s` and :math:`n_S` leaves. The leaves
    get :math:`f = \max(1, \lfloor (1 - w) E / n_S \rfloor)` epochs each (``w`` =
    ``warmup_fraction``), leaving :math:`W = E - n_S f` passes of warm-up; the warm-up is
    shared equally by the ``S`` stages before a split: depth :math:`s = 1..S-1` nodes get
    :math:`\max(1, \lfloor W / S / n_s \rfloor)` epochs each and the root takes the rest, so
    that :math:`\sum_s n_s e_s = E` exactly. E.g. ``E = 30``: ``B = 2, S = 1`` gives
    ``(16, 7)``; ``B = 2, S = 2`` gives ``(10, 4, 3)``; three options, exhaustively:
    ``(15, 5)``.

    Args:
        epochs: the budget ``E`` (>= 1).
        branching: children per split (each >= 2; empty: no split, all to the root).
        warmup_fraction: share of the budget meant for the warm-up, in (0, 1).

    Returns:
        Epochs of each node at depth ``0..S`` (for :func:`fit_split_tree`).
    """
    owner = "split_budget"
    epochs = check_int(epochs, "epochs", owner, low=1)
    branching = [check_int(b, "branching", owner, low=2) for b in branching]
    w = check_fraction(warmup_fraction, "warmup_fraction", owner)
    if not branching:
        return (epochs,)
    nodes = np.cumprod([1, *branching]).tolist()                       # n_0..n_S
    leaf = max(1, int((1 - w) * epochs // nodes[-1]))
    warm = epochs - nodes[-1] * leaf
    stages = [max(1, int(warm / len(branching) // n)) for n in nodes[1:-1]]
    root = warm - sum(e * n for e, n in zip(stages, nodes[1:-1]))
    if root < 1:
        least = 1 + sum(nodes[1:])
        raise ValueError(f"The 'epochs' parameter of {owner} must be at least {least} to train "
                         f"the root, the {nodes[1:-1]} nodes between splits and the "
                         f"{nodes[-1]} leaves one epoch each (branching {branching}). Got "
                         f"{epochs} instead.")
    return (root, *stages, leaf)


def _variant(space, train_data, epochs, seed, branching, warmup_fraction, **kwargs):
    net = build_supernet(space, random_state=seed)
    schedule = split_budget(epochs, branching, warmup_fraction)
    return fit_split_tree(net, train_data, schedule, random_state=seed, **kwargs)


def gm_nas(space: ProductSpace, train_data: Dataset, epochs: int, seed: int, *,
           num_groups: int = 2, num_splits: int = 1, restart: bool = True,
           warmup_fraction: float = 0.5, **kwargs) -> SplitTree:
    """Variant of :mod:`supernet.compare`: GM-NAS (Hu et al., ICLR 2022), ``num_splits``
    gradient-matching min-cut splits into ``num_groups`` groups, ``num_groups**num_splits``
    sub-supernets, restart on by default. The budget of ``epochs`` passes is divided by
    :func:`split_budget` (by default half for the warm-up stages, the rest shared by the
    leaves). ``kwargs`` go to :func:`fit_split_tree` (``sampler``, ``score_batches``,
    ``batch_size``, ``lr``, ...)."""
    num_groups = check_int(num_groups, "num_groups", "gm_nas", low=2)
    num_splits = check_int(num_splits, "num_splits", "gm_nas", low=1)
    return _variant(space, train_data, epochs, seed, [num_groups] * num_splits,
                    warmup_fraction, num_groups=num_groups, partition="gradient_matching",
                    restart=restart, **kwargs)


def random_split(space: ProductSpace, train_data: Dataset, epochs: int, seed: int, *,
                 num_groups: int = 2, num_splits: int = 1, restart: bool = True,
                 warmup_fraction: float = 0.5, **kwargs) -> SplitTree:
    """Variant of :mod:`supernet.compare`: the random-partition baseline of GM-NAS, at the
    same number of sub-supernets (``num_groups**num_splits``) and budget as :func:`gm_nas`:
    each split takes a random layer and a random balanced partition of its options."""
    num_groups = check_int(num_groups, "num_groups", "random_split", low=2)
    num_splits = check_int(num_splits, "num_splits", "random_split", low=1)
    return _variant(space, train_data, epochs, seed, [num_groups] * num_splits,
                    warmup_fraction, num_groups=num_groups, partition="random",
                    restart=restart, **kwargs)


def few_shot(space: ProductSpace, train_data: Dataset, epochs: int, seed: int, *,
             layer: int | None = None, restart: bool = False, warmup_fraction: float = 0.5,
             **kwargs) -> SplitTree:
    """Variant of :mod:`supernet.compare`: few-shot NAS (Zhao et al., ICML 2021), the
    exhaustive split of one layer, one sub-supernet per option, fine-tuned from the warmed-up
    supernet's weights (``restart=False``, as Zhao et al.; ``True`` restarts as GM-NAS). The
    layer is ``layer``, or the one of lowest gradient-matching score (mean pairwise cosine,
    as :func:`~supernet.splitting.gradient_matching_scores`), which needs every layer to have
    the same number of options (so the budget is known before the warm-up). Budget:
    :func:`split_budget` with ``branching = (O,)``."""
    owner = "few_shot"
    if layer is None:
        if len(set(space.num_options)) != 1:
            raise ValueError(f"The 'layer' parameter of {owner} is needed when the layers have "
                             f"different numbers of options (here {space.num_options}): the "
                             f"number of sub-supernets must be known to divide the budget. "
                             f"Got None.")
        num_options = space.num_options[0]
    else:
        layer = check_int(layer, "layer", owner, 0, space.num_layers - 1)
        num_options = space.num_options[layer]
    return _variant(space, train_data, epochs, seed, [num_options], warmup_fraction,
                    num_groups=None, partition="gradient_matching",
                    layers=None if layer is None else [layer], restart=restart, **kwargs)
