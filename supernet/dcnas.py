r"""DCNAS: distribution-consistent local weight sharing (Pan et al., CVPR 2022).

Pan et al., "Distribution Consistent Neural Architecture Search" (CVPR 2022). In a plain
supernet an option's weights serve every path through it, although the feature maps those
paths feed it come from different distributions. DCNAS gives each option :math:`M` candidate
weights and lets the architectures whose inputs to a layer are *consistent* share one of them:

- **candidate weights** (:class:`DCNASSupernet`): option :math:`o` of layer :math:`l` holds
  :math:`M` copies :math:`w^l_{o,1..M}`; every architecture of a candidate pool :math:`A` of
  :math:`N` architectures has per layer an *assignment id* saying which copy it uses there.
  Layers not assigned yet use a random copy at every training step.
- **matching degree** (Eq. 11): a meta network per option, one linear layer and a sigmoid,
  maps the pooled difference of two architectures' inputs to layer :math:`l` (the feature maps
  the previous layers produce on the same images) to
  :math:`\lambda^l_{ij} = \sigma(v_{l,o}^\top \mathrm{pool}(F^{l-1}_i - F^{l-1}_j) + c_{l,o})
  \in [0, 1]`, and :math:`\lambda^l_{ij} = 0` when :math:`a_i, a_j` do not share the option
  (:meth:`DCNASSupernet.matching_degree`). Pooling (:func:`pooled_difference`): the mean over
  positions per image and channel, then the root mean square over the images, a vector
  ``[C_l]``. (Not the mean over images as well: a layer's input often ends in a BatchNorm,
  whose batch mean per channel is its bias in training mode whatever the images, so the mean
  difference would vanish; the root mean square is also symmetric, so
  :math:`\lambda_{ij} = \lambda_{ji}`.)
- **paired update** (Eq. 8/10, :func:`paired_gradients`): a step trains architecture
  :math:`a_i` together with a partner :math:`a_j` drawn from the pool among those sharing
  the option of the layer being decided; layer by layer, the update of :math:`a_i`'s weights
  adds :math:`a_j`'s gradient scaled by the matching degree:
  :math:`w^l \leftarrow w^l - \eta\,(\nabla_{w^l} L_i + \lambda^l_{ij} \nabla_{w^l} L_j)`,
  where :math:`\lambda^l_{ij} = 0` unless both use the same copy of the same option at
  :math:`l`. Weights outside the searchable layers (stem, head, classifier) take
  :math:`\nabla L_i` alone.
- **meta update** (Eq. 9/12, :func:`lookahead_loss`): every :math:`\tau` steps the meta
  networks descend the loss of :math:`a_i` after the one-step look-ahead
  :math:`w'(\phi) = w - \eta(\nabla L_i + \lambda(\phi) \nabla L_j)` (plain SGD step, no
  momentum or weight decay), computed with :func:`torch.func.functional_call` on the same
  mini-batch. To first order :math:`\partial L_i(w') / \partial \lambda^l =
  -\eta\, \nabla_{w^l} L_i \cdot \nabla_{w^l} L_j`: the matching degree grows where the two
  gradients agree.
- **layer-wise assignment** (Eq. 7, :func:`assign_layer`): when layer :math:`l`'s epochs are
  over, for every option :math:`o` the pool architectures using it are clustered into
  :math:`M` groups by K-means (scikit-learn) on the rows of their matching-degree matrix
  :math:`\Lambda_{ij} = \lambda^l_{ij}` (the diagonal is the same formula at a zero
  difference), and each group gets one
  copy. *Approximation*: Eq. 7 asks for the partition maximizing the matching degree within
  groups through representative architectures; K-means on the rows groups the architectures
  whose matching profiles against the whole pool are alike, which needs no representative and
  no combinatorial search. With fewer distinct rows than :math:`M` (e.g. layer 1, whose input
  is the stem's output for every architecture, so all differences are zero) only that many
  copies are used. Group ids are numbered in order of first appearance in the pool, so the
  ids are a function of the partition.
- **schedule** (Algorithm 1, :func:`train_dcnas`): warm-up :math:`T_w` epochs (single-path
  steps over the pool, every layer on a random copy), then :math:`T` epochs per layer in order
  (paired and meta updates; at the end the layer is assigned), then :math:`T_f` epochs of
  fine-tuning with every assignment fixed (paired updates on a random layer, meta updates
  continue). Defaults scaled to the 5-layer ``digits5v2`` space at a budget of ``E`` passes:
  :func:`dcnas_schedule` gives :math:`T_w = \mathrm{round}(E/3)`,
  :math:`T_f = \mathrm{round}(E/6)`, :math:`T = \lfloor(E - T_w - T_f)/L\rfloor` and the
  rest to :math:`T_f` (``30 -> 10 + 5 x 3 + 5``), the budget of the other variants of
  :mod:`supernet.compare`; the paper trains ImageNet supernets far longer. Meta step every
  :math:`\tau = 5` steps (about 4 per epoch on 1,198 images at batch 64), meta learning rate
  100 (see :func:`train_dcnas`), :math:`M = 2` copies.

Architectures outside the pool (:meth:`DCNASSupernet.copies_of`): per layer, the copy of the
pool architecture nearest in Hamming distance among those with the same option there (ties:
lowest pool position); copy 0 if none uses it, and copy 0 on layers not assigned yet. So
:class:`~supernet.SupernetEvaluator` evaluates any architecture of the space, deterministically.

The *random assignment* ablation of the paper (:func:`random_assignment`): the same
:math:`M` copies with random ids for every architecture and layer, fixed from the start, and
plain single-path training over the pool.

The training state (weights, meta networks, pool and assignments: parameters and buffers of the
module; optimizer, schedule, data order and path RNG) is checkpointed after every epoch with
:mod:`supernet.checkpoint` (SHA-256 checked, ``weights_only`` loading), and a resumed run ends
with the weights of an uninterrupted one; :meth:`DCNASSupernet.from_checkpoint` rebuilds the
trained supernet from such a file.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from numbers import Real
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn
from torch.func import functional_call
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler
from tqdm.auto import tqdm

from archgraph.spaces import ChainSpace, ChoiceArch
from archgraph.utils.validation import check_int, check_positive, check_random_state
from supernet.chain_supernet import ChainSupernet
from supernet.checkpoint import (
    load_checkpoint,
    resume_checkpoint,
    save_checkpoint,
    training_fingerprint,
)
from supernet.config import SupernetConfig
from supernet.data import check_dataset
from supernet.evaluator import tensors_of

#: largest space whose every architecture is the default candidate pool
MAX_DEFAULT_POOL = 1000


def _seed(random_state: int, *key: int) -> int:
    """An independent seed for ``key`` under ``random_state``."""
    return int(np.random.SeedSequence([random_state, *key]).generate_state(1)[0])


class DCNASSupernet(ChainSupernet):
    r"""Chain supernet with :math:`M` candidate weights per option, a candidate pool with
    per-layer assignment ids, and one meta network per option (see :mod:`supernet.dcnas`).

    Args:
        space: a chain space (or a subspace of one).
        config: a :class:`~supernet.SupernetConfig` without inter-choice weights.
        num_copies: :math:`M`, candidate weights per option (>= 1; 1 is a plain supernet).
        pool: the candidate pool :math:`A` (architectures of ``space``, distinct); default
            every architecture when the space has at most :data:`MAX_DEFAULT_POOL`, else
            ``pool_size`` sampled.
        pool_size: size of a sampled default pool (default :data:`MAX_DEFAULT_POOL`).
        random_state: seed of the weights, the copies, the meta networks and a sampled pool.

    Attributes:
        copies: ``copies[l][o][m - 1]``, copy ``m >= 1`` of option ``o`` of layer ``l``
            (``blocks[l][o]`` is copy 0); each initialized independently.
        meta: ``meta[l][o]``, the ``Linear(C_l, 1)`` of the matching degree (weights 0 and bias
            0 at the start: :math:`\lambda = 1/2`).
        pool_choices: buffer ``[N, L]``, the pool's choices (per layer of the whole space, as
            :meth:`forward` reads them).
        assignment: buffer ``[N, L]``, copy id of each pool architecture per layer; ``-1``
            where the layer is not assigned yet.

    Shapes:
        ``forward(x, arch, copies=None)``: ``[B, in_channels, R, R] -> [B, num_classes]``.
    """

    space_type = ChainSpace

    def __init__(self, space: ChainSpace, config: SupernetConfig | None = None, *,
                 num_copies: int = 2, pool: Sequence | None = None,
                 pool_size: int | None = None, random_state: int | None = 0):
        owner = "DCNASSupernet"
        self.num_copies = check_int(num_copies, "num_copies", owner, low=1)
        if config is not None and isinstance(config, SupernetConfig) and (
                config.bias_weights or config.split_weights_epoch is not None):
            raise ValueError(f"The 'config' parameter of {owner} must not have inter-choice "
                             f"weights (bias_weights, split_weights_epoch): DCNAS gives each "
                             f"option candidate weights of its own. Got {config}.")
        super().__init__(space, config, random_state=random_state)
        if pool is None:
            if space.size <= MAX_DEFAULT_POOL and pool_size is None:
                pool = list(space.enumerate())
            else:
                n = MAX_DEFAULT_POOL if pool_size is None else check_int(
                    pool_size, "pool_size", owner, low=2, high=space.size)
                pool = space.sample(n, np.random.default_rng(
                    _seed(0 if random_state is None else random_state, 1)))
        elif pool_size is not None:
            raise ValueError(f"The 'pool_size' parameter of {owner} sizes a sampled pool; "
                             f"pass either 'pool' or 'pool_size'. Got both.")
        if isinstance(pool, (str, bytes)) or not isinstance(pool, Sequence):
            raise TypeError(f"The 'pool' parameter of {owner} must be a sequence of "
                            f"architectures of {space.name!r}. Got {type(pool).__name__}.")
        choices = np.array([self.choices(a) for a in pool], dtype=np.int64)  # [N, L] root
        choices = choices.reshape(len(choices), len(self.blocks))
        if len(choices) < 2 or len({tuple(r) for r in choices.tolist()}) != len(choices):
            raise ValueError(f"The 'pool' parameter of {owner} must hold at least 2 distinct "
                             f"architectures. Got {len(choices)} with "
                             f"{len({tuple(r) for r in choices.tolist()})} distinct.")
        self.register_buffer("pool_choices", torch.as_tensor(choices, dtype=torch.int64))
        self.register_buffer("assignment", torch.full(choices.shape, -1, dtype=torch.int64))
        self._index_pool()

    def _index_pool(self) -> None:
        self._pool_index = {tuple(r): i for i, r in enumerate(self.pool_choices.tolist())}

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        out = super().load_state_dict(state_dict, strict=strict, assign=assign)
        self._index_pool()  # the pool is a buffer: its index follows it
        return out

    def build(self, root: ChainSpace) -> None:
        super().build(root)
        rows = list(root.stem)
        inputs = [self.config.in_channels if l == 0 and not rows else self.width(row.in_channels)
                  for l, row in enumerate(root.layers)]
        self.copies = nn.ModuleList(
            nn.ModuleList(nn.ModuleList(_fresh(op) for _ in range(self.num_copies - 1))
                          for op in block) for block in self.blocks)
        self.meta = nn.ModuleList(
            nn.ModuleList(_zero_linear(c) for _ in block) for c, block in zip(inputs, self.blocks))
        self.input_channels = inputs

    @classmethod
    def from_checkpoint(cls, space: ChainSpace, checkpoint) -> "DCNASSupernet":
        """The supernet saved by :func:`train_dcnas` at ``checkpoint`` (SHA-256 checked,
        ``weights_only`` loading): its config, copies, pool, assignments and meta networks.
        ``ValueError`` if it is not a DCNAS checkpoint of ``space``."""
        state = load_checkpoint(checkpoint)
        fp, model = state["fingerprint"], state["model"]
        if not isinstance(fp, dict) or fp.get("model") != cls.__name__ or fp.get(
                "space") != space.name or "pool_choices" not in model:
            raise ValueError(f"The 'checkpoint' parameter of DCNASSupernet.from_checkpoint must "
                             f"hold a DCNASSupernet of the {space.name!r} space (written by "
                             f"train_dcnas). Got {str(checkpoint)!r}.")
        try:
            pool = [ChoiceArch(space.root.name, tuple(r)) for r in model["pool_choices"].tolist()]
            net = cls(space, SupernetConfig(**fp["config"]), num_copies=fp["num_copies"],
                      pool=pool, random_state=None)
            net.load_state_dict(model)
        except Exception as exc:
            raise ValueError(f"Checkpoint {str(checkpoint)!r} is corrupted: its weights do not "
                             f"fit a DCNASSupernet of its config: {type(exc).__name__}: "
                             f"{exc}") from exc
        return net

    # ------------------------------------------------------------ pool and assignments

    @property
    def pool(self) -> list:
        """The candidate pool, as architectures of :attr:`space`."""
        return [ChoiceArch(self.space.root.name, tuple(r)) for r in self.pool_choices.tolist()]

    def pool_index(self, arch) -> int | None:
        """Position of ``arch`` in the pool, or ``None``."""
        return self._pool_index.get(tuple(self.choices(arch)))

    def assigned_layers(self) -> list[int]:
        """The layers whose assignment is decided."""
        return [l for l in range(self.pool_choices.shape[1])
                if bool((self.assignment[:, l] >= 0).all())]

    def copies_of(self, arch) -> tuple[int, ...]:
        """Copy id per layer of ``arch``: its assignment in the pool; outside the pool, per
        layer the copy of the nearest pool architecture (Hamming distance) with the same
        option there, lowest pool position first; copy 0 where the layer is not assigned or
        no pool architecture uses the option."""
        codes = np.asarray(self.choices(arch), dtype=np.int64)             # [L] root choices
        i = self._pool_index.get(tuple(codes.tolist()))
        assign = self.assignment.cpu().numpy()
        if i is not None:
            return tuple(int(max(c, 0)) for c in assign[i])
        pool = self.pool_choices.cpu().numpy()
        dist = (pool != codes).sum(1)                                      # [N]
        out = []
        for l in range(len(codes)):
            same = np.flatnonzero((pool[:, l] == codes[l]) & (assign[:, l] >= 0))
            out.append(int(assign[same[np.argmin(dist[same])], l]) if len(same) else 0)
        return tuple(out)

    def _check_copies(self, copies) -> tuple[int, ...]:
        copies = tuple(int(c) for c in copies)
        if len(copies) != len(self.blocks) or not all(0 <= c < self.num_copies for c in copies):
            raise ValueError(f"The 'copies' argument of DCNASSupernet must hold one copy id in "
                             f"0..{self.num_copies - 1} per layer ({len(self.blocks)}). Got "
                             f"{copies}.")
        return copies

    # ------------------------------------------------------------ modules and forward

    def candidate(self, layer: int, option: int, copy_id: int) -> nn.Module:
        """Copy ``copy_id`` of option ``option`` of layer ``layer``."""
        return self.blocks[layer][option] if copy_id == 0 else (
            self.copies[layer][option][copy_id - 1])

    def features(self, x: torch.Tensor, arch, copies=None, upto: int | None = None
                 ) -> tuple[torch.Tensor | None, list[torch.Tensor]]:
        """Logits and the input of every searchable layer of the path ``arch`` on copies
        ``copies`` (default :meth:`copies_of`); with ``upto=l`` stop before layer ``l``
        (logits ``None``).

        Shapes: ``x [B, C, R, R]`` -> ``([B, num_classes], L tensors [B, C_l, R_l, R_l])``.
        """
        choices = self.choices(arch)
        copies = self.copies_of(arch) if copies is None else self._check_copies(copies)
        self.check_input(x)
        x = self.stem(x)
        inputs = []
        for l, (c, m) in enumerate(zip(choices, copies)):
            if upto is not None and l == upto:
                return None, inputs
            inputs.append(x)
            x = self.candidate(l, c, m)(x)                              # [B, C_l, R_l, R_l]
        x = self.head(x).mean(dim=(2, 3))                               # [B, C_head]
        return self.classifier(x), inputs

    def forward(self, x: torch.Tensor, arch, copies=None) -> torch.Tensor:
        return self.features(x, arch, copies)[0]                        # [B, num_classes]

    def extract_subnet(self, arch, copies=None) -> nn.Module:
        """``nn.Sequential(stem, chosen copies, head, pool, classifier)`` with copied weights."""
        choices = self.choices(arch)
        copies = self.copies_of(arch) if copies is None else self._check_copies(copies)
        layers = [self.candidate(l, c, m) for l, (c, m) in enumerate(zip(choices, copies))]
        parts = [*self.stem, *layers, *self.head, nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                 self.classifier]
        return nn.Sequential(*(copy.deepcopy(p) for p in parts))

    # ------------------------------------------------------------ matching degree

    def matching_degree(self, layer: int, option_i: int, option_j: int,
                        difference: torch.Tensor) -> torch.Tensor:
        r"""Eq. 11: :math:`\sigma(\mathrm{meta}_{l,o}(d))` for the pooled input difference
        ``difference`` (``[C_l]`` or ``[n, C_l]``) of two architectures with options
        ``option_i``, ``option_j`` at ``layer``; exactly 0 when the options differ."""
        if option_i != option_j:
            return torch.zeros(difference.shape[:-1], dtype=difference.dtype,
                               device=difference.device)
        return torch.sigmoid(self.meta[layer][option_i](difference)).squeeze(-1)

    def layer_of_parameters(self) -> dict[str, tuple[int, int, int]]:
        """``{parameter name: (layer, option, copy)}`` of the searchable layers' weights."""
        out = {}
        for l, block in enumerate(self.blocks):
            for o in range(len(block)):
                for m in range(self.num_copies):
                    prefix = f"blocks.{l}.{o}." if m == 0 else f"copies.{l}.{o}.{m - 1}."
                    for name, _ in self.candidate(l, o, m).named_parameters():
                        out[prefix + name] = (l, o, m)
        return out

    def __repr__(self) -> str:
        return (f"DCNASSupernet(space={self.space.name!r}, num_copies={self.num_copies}, "
                f"pool={self.pool_choices.shape[0]}, assigned_layers={self.assigned_layers()})")


def _zero_linear(channels: int) -> nn.Linear:
    lin = nn.Linear(channels, 1)
    nn.init.zeros_(lin.weight)
    nn.init.zeros_(lin.bias)
    return lin


def _fresh(module: nn.Module) -> nn.Module:
    """A copy of ``module`` with freshly initialized parameters (its own draw)."""
    new = copy.deepcopy(module)
    for m in new.modules():
        reset = getattr(m, "reset_parameters", None)
        if callable(reset):
            reset()
    return new


def pooled_difference(f_i: torch.Tensor, f_j: torch.Tensor) -> torch.Tensor:
    """The pooled difference of two feature maps of the same images, the meta networks'
    input: the mean over positions, then the root mean square over images.

    Shapes: ``[B, C, H, W]`` twice (or their spatial means ``[..., B, C]``) -> ``[..., C]``.
    """
    if f_i.dim() == 4:
        f_i, f_j = f_i.mean(dim=(2, 3)), f_j.mean(dim=(2, 3))           # [B, C]
    return (f_i - f_j).pow(2).mean(dim=-2).sqrt()                       # [C]


def _weight_names(net: DCNASSupernet) -> list[str]:
    return [n for n, _ in net.named_parameters() if not n.startswith("meta.")]


def pair_lambdas(net: DCNASSupernet, arch_i, arch_j, copies_i, copies_j, inputs_i, inputs_j
                 ) -> list[torch.Tensor]:
    r"""Per layer, :math:`\lambda^l_{ij}` of Eq. 8 (differentiable in the meta networks):
    the matching degree of the pooled input difference where the two paths use the same copy
    of the same option, else 0."""
    ci, cj = net.choices(arch_i), net.choices(arch_j)
    out = []
    for l in range(len(ci)):
        d = pooled_difference(inputs_i[l].detach(), inputs_j[l].detach())    # [C_l]
        if ci[l] == cj[l] and copies_i[l] == copies_j[l]:
            out.append(net.matching_degree(l, ci[l], cj[l], d))
        else:
            out.append(torch.zeros((), dtype=d.dtype))
    return out


def paired_gradients(net: DCNASSupernet, x: torch.Tensor, y: torch.Tensor, arch_i, arch_j,
                     copies_i, copies_j, criterion=None):
    r"""The gradients of a paired update (Eq. 8/10) without applying them.

    Returns ``(update, g_i, g_j, lambdas, loss_i)``: ``update`` maps each weight name (meta
    networks excluded) to :math:`\nabla L_i + \lambda^l \nabla L_j` on the searchable layer
    :math:`l` it belongs to and :math:`\nabla L_i` elsewhere (``None`` where :math:`a_i`'s
    path does not reach it); ``g_i``, ``g_j`` the two gradients, ``lambdas`` the detached
    :math:`\lambda^l` per layer, ``loss_i`` the loss of :math:`a_i`.
    """
    criterion = nn.CrossEntropyLoss() if criterion is None else criterion
    names = _weight_names(net)
    params = dict(net.named_parameters())
    weights = [params[n] for n in names]
    logits_i, inputs_i = net.features(x, arch_i, copies_i)
    logits_j, inputs_j = net.features(x, arch_j, copies_j)
    loss_i, loss_j = criterion(logits_i, y), criterion(logits_j, y)
    g_i = dict(zip(names, torch.autograd.grad(loss_i, weights, allow_unused=True)))
    g_j = dict(zip(names, torch.autograd.grad(loss_j, weights, allow_unused=True)))
    with torch.no_grad():
        lambdas = [lam.detach() for lam in pair_lambdas(net, arch_i, arch_j, copies_i,
                                                       copies_j, inputs_i, inputs_j)]
    where = net.layer_of_parameters()
    update = {}
    for n in names:
        gi, gj = g_i[n], g_j[n]
        if gi is not None and gj is not None and n in where:
            update[n] = gi + lambdas[where[n][0]] * gj
        else:
            update[n] = gi
    return update, g_i, g_j, (lambdas, inputs_i, inputs_j), loss_i


def lookahead_loss(net: DCNASSupernet, x: torch.Tensor, y: torch.Tensor, arch_i, arch_j,
                   copies_i, copies_j, lr: float, grads=None, criterion=None) -> torch.Tensor:
    r"""Eq. 9/12: the loss of :math:`a_i` after the look-ahead step
    :math:`w' = w - \eta(\nabla L_i + \lambda(\phi) \nabla L_j)` of the searchable layers
    (plain SGD with learning rate ``lr``), differentiable in the meta networks :math:`\phi`
    only. Evaluated with :func:`torch.func.functional_call` on copies of the BatchNorm
    buffers, so the module is left unchanged. ``grads``: the ``paired_gradients`` output to
    reuse (else computed here)."""
    criterion = nn.CrossEntropyLoss() if criterion is None else criterion
    if grads is None:
        grads = paired_gradients(net, x, y, arch_i, arch_j, copies_i, copies_j, criterion)
    _, g_i, g_j, (_, inputs_i, inputs_j), _ = grads
    lambdas = pair_lambdas(net, arch_i, arch_j, copies_i, copies_j, inputs_i, inputs_j)
    where = net.layer_of_parameters()
    new = {}
    for n, p in net.named_parameters():
        if n.startswith("meta."):
            continue
        gi, gj = g_i[n], g_j[n]
        if gi is None:
            new[n] = p.detach()
            continue
        step = gi if gj is None or n not in where else gi + lambdas[where[n][0]] * gj
        new[n] = p.detach() - lr * step
    buffers = {n: b.clone() for n, b in net.named_buffers()}
    logits = functional_call(net, {**new, **buffers}, (x, arch_i),
                             {"copies": copies_i})
    return criterion(logits, y)


@torch.no_grad()
def matching_matrix(net: DCNASSupernet, layer: int, option: int, images: Sequence[torch.Tensor],
                    members: np.ndarray) -> np.ndarray:
    r""":math:`\Lambda_{ij} = \lambda^l_{ij}` ``[n, n]`` among the pool architectures at
    positions ``members`` (all with ``option`` at ``layer``): pooled inputs of ``layer`` over
    ``images`` (the assigned copies before it; eval-mode BatchNorm); the diagonal is an
    architecture's degree with itself, :math:`\sigma(c_{l,o})`."""
    was = net.training
    net.eval()
    try:
        pool = net.pool
        feats = []
        for i in members:
            copies = net.copies_of(pool[i])
            feats.append(torch.cat([net.features(x, pool[i], copies, upto=layer + 1)[1][layer]
                                    .mean(dim=(2, 3)) for x in images]))    # [B, C_l]
        f = torch.stack(feats).double()                               # [n, B, C_l]
        meta = net.meta[layer][option]
        w, c = meta.weight.double()[0], meta.bias.double()[0]         # [C_l], []
        # float64: degrees near 1/2 differ by less than float32 resolves early in training
        lam = torch.stack([torch.sigmoid(pooled_difference(f[i][None], f) @ w + c)
                           for i in range(len(f))])                   # [n, n]
        lam = lam.cpu().numpy()
    finally:
        net.train(was)
    return lam


def assign_layer(net: DCNASSupernet, layer: int, images: Sequence[torch.Tensor],
                 random_state: int = 0) -> np.ndarray:
    """Assign the copies of ``layer`` (Eq. 7 by K-means, see :mod:`supernet.dcnas`): for each
    option, K-means with ``min(M, distinct rows)`` clusters on the rows of
    :func:`matching_matrix` among the pool architectures using it; ids numbered by first
    appearance. Writes ``net.assignment[:, layer]`` and returns it."""
    from sklearn.cluster import KMeans

    layer = check_int(layer, "layer", "assign_layer", 0, len(net.blocks) - 1)
    pool = net.pool_choices.cpu().numpy()
    ids = np.zeros(len(pool), dtype=np.int64)
    for o in range(len(net.blocks[layer])):
        members = np.flatnonzero(pool[:, layer] == o)
        if not len(members):
            continue
        lam = matching_matrix(net, layer, o, images, members)
        distinct = len(np.unique(lam.round(12), axis=0))
        k = min(net.num_copies, distinct)
        if k <= 1:
            labels = np.zeros(len(members), dtype=np.int64)
        else:
            labels = KMeans(k, n_init=10, random_state=_seed(random_state, layer, o)).fit(
                lam).labels_
        first = {c: r for r, c in enumerate(dict.fromkeys(labels.tolist()))}
        ids[members] = [first[c] for c in labels.tolist()]
    net.assignment[:, layer] = torch.as_tensor(ids)
    return ids


# ---------------------------------------------------------------- training (Algorithm 1)


def dcnas_schedule(epochs: int, num_layers: int) -> tuple[int, int, int]:
    """``(T_w, T, T_f)`` of a budget of ``epochs`` passes: ``T_w + num_layers * T + T_f ==
    epochs`` with ``T_w = round(epochs / 3)``, ``T_f >= round(epochs / 6)``, ``T >= 1``."""
    epochs = check_int(epochs, "epochs", "dcnas_schedule", low=1)
    num_layers = check_int(num_layers, "num_layers", "dcnas_schedule", low=1)
    warm, fine = round(epochs / 3), round(epochs / 6)
    per = (epochs - warm - fine) // num_layers
    if per < 1:
        raise ValueError(f"The 'epochs' parameter of dcnas_schedule must leave at least one "
                         f"epoch per layer ({num_layers}) after warm-up and fine-tuning; "
                         f"got {epochs}, which needs at least "
                         f"{_min_epochs(num_layers)}.")
    return warm, per, epochs - warm - num_layers * per


def _min_epochs(num_layers: int) -> int:
    e = 1
    while round(e / 3) + round(e / 6) + num_layers > e:
        e += 1
    return e


@dataclass
class _PathRNG:
    """The path/pair RNG of :func:`train_dcnas`, checkpointed as a sampler's ``rng``."""

    rng: np.random.Generator
    description: str

    def __repr__(self) -> str:
        return self.description


def _phase(epoch: int, num_layers: int, warm: int, per: int) -> tuple[str, int | None]:
    """``("warmup" | "layer" | "finetune", layer)`` of 1-based ``epoch``."""
    if epoch <= warm:
        return "warmup", None
    if epoch <= warm + num_layers * per:
        return "layer", (epoch - warm - 1) // per
    return "finetune", None


def train_dcnas(net: DCNASSupernet, train_data: Dataset, *, warmup_epochs: int,
                layer_epochs: int, finetune_epochs: int, meta_interval: int = 5,
                meta_lr: float = 100.0, paired: bool = True, batch_size: int = 64,
                lr: float = 0.05, momentum: float = 0.9, weight_decay: float = 4e-5,
                assign_batches: int = 2, checkpoint=None, stop_after: int | None = None,
                random_state: int = 0, progress: bool = True) -> list[dict]:
    r"""Train a :class:`DCNASSupernet` by Algorithm 1 of Pan et al. (see
    :mod:`supernet.dcnas`): ``warmup_epochs`` (:math:`T_w`), ``layer_epochs`` (:math:`T`) per
    layer, then ``finetune_epochs`` (:math:`T_f`); ``T_w + L * T + T_f`` epochs in all.

    Each step takes one mini-batch and a pool architecture :math:`a_i` drawn uniformly, each
    unassigned layer on a random copy. Warm-up: a single-path step on :math:`a_i`. Layer
    phase of layer :math:`l` (and fine-tuning, with :math:`l` a random layer): a partner
    :math:`a_j \ne a_i` drawn uniformly among the pool architectures with :math:`a_i`'s option
    at :math:`l`, on the same copy there, and the paired update of Eq. 8 (SGD with Nesterov
    momentum on the combined gradient); every ``meta_interval`` steps first a meta step on
    :func:`lookahead_loss` (the look-ahead with the current learning rate). After the last
    epoch of layer :math:`l`, :func:`assign_layer` on ``assign_batches`` fixed training
    batches. ``paired=False`` (the random-assignment ablation) trains single paths throughout,
    without meta updates, and assigns nothing. The meta networks sit in a second parameter
    group of the same SGD optimizer (``lr = meta_lr``, no momentum or weight decay), so the
    cosine schedule over all steps anneals both.

    Args:
        net: the supernet (trained in place).
        train_data: ``(image, label)`` dataset.
        warmup_epochs, layer_epochs, finetune_epochs: the schedule (``dcnas_schedule`` turns
            a budget into one).
        meta_interval: :math:`\tau`, steps between meta updates (>= 1).
        meta_lr: learning rate of the meta networks. The default 100 is scaled to the size
            of the look-ahead gradient :math:`\eta\,\nabla L_i \cdot \nabla L_j` on the
            digits spaces: at 1, the meta biases moved by about 0.001 over two layer epochs
            of ``digits5v2``, at 100 by about 0.1.
        paired: paired and meta updates (``False``: single-path training only).
        batch_size, lr, momentum, weight_decay: as in :func:`~supernet.train.train`.
        assign_batches: training batches of ``batch_size`` the matching degrees of an
            assignment are averaged over.
        checkpoint: path of the checkpoint written after every epoch and resumed from.
        stop_after: stop after this epoch (to be resumed).
        random_state: seed of the data order, the paths and the K-means.
        progress: progress bar over epochs.

    Returns:
        One dict per epoch: ``epoch``, ``phase``, ``layer``, ``loss``, ``mean_lambda`` (mean
        matching degree of the pairs' shared layers, NaN in single-path epochs), ``lr``,
        ``seconds``.
    """
    owner = "train_dcnas"
    if not isinstance(net, DCNASSupernet):
        raise TypeError(f"The 'net' parameter of {owner} must be a DCNASSupernet. "
                        f"Got {type(net).__name__} instead.")
    num_layers = len(net.blocks)
    warm = check_int(warmup_epochs, "warmup_epochs", owner, low=0)
    per = check_int(layer_epochs, "layer_epochs", owner, low=0 if not paired else 1)
    fine = check_int(finetune_epochs, "finetune_epochs", owner, low=0)
    epochs = warm + num_layers * per + fine
    if epochs < 1:
        raise ValueError(f"The schedule of {owner} has no epoch (warmup_epochs + "
                         f"{num_layers} * layer_epochs + finetune_epochs = 0).")
    meta_interval = check_int(meta_interval, "meta_interval", owner, low=1)
    meta_lr = check_positive(meta_lr, "meta_lr", owner)
    lr = check_positive(lr, "lr", owner)
    batch_size = check_int(batch_size, "batch_size", owner, low=1)
    assign_batches = check_int(assign_batches, "assign_batches", owner, low=1)
    check_int(random_state, "random_state", owner)
    if stop_after is not None:
        stop_after = check_int(stop_after, "stop_after", owner, low=1, high=epochs)
    for name, value in (("momentum", momentum), ("weight_decay", weight_decay)):
        if not isinstance(value, Real) or isinstance(value, bool) or value < 0:
            raise ValueError(f"The '{name}' parameter of {owner} must be a float in [0, inf). "
                             f"Got {value!r} instead.")
    check_dataset(train_data, net.config, "train_data", owner)

    names = _weight_names(net)
    params = dict(net.named_parameters())
    meta_params = [p for n, p in params.items() if n.startswith("meta.")]
    opt = torch.optim.SGD([dict(params=[params[n] for n in names]),
                           dict(params=meta_params, lr=meta_lr, momentum=0.0,
                                weight_decay=0.0, nesterov=False)],
                          lr=lr, momentum=momentum, weight_decay=weight_decay,
                          nesterov=momentum > 0)
    paths = _PathRNG(check_random_state(_seed(random_state, 7)),
                     f"DCNAS(paired={paired}, tau={meta_interval}, meta_lr={meta_lr}, "
                     f"schedule=({warm}, {per}, {fine}), assign_batches={assign_batches})")
    fingerprint = training_fingerprint(
        net, opt, paths, epochs=epochs, batch_size=batch_size, lr=lr, momentum=momentum,
        weight_decay=weight_decay, label_smoothing=0.0, random_state=random_state,
        num_train=len(train_data))
    fingerprint["num_copies"] = net.num_copies
    gen = torch.Generator().manual_seed(random_state)
    loader = DataLoader(train_data, batch_sampler=BatchSampler(
        RandomSampler(train_data, generator=gen), batch_size, drop_last=False))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * len(loader))
    criterion = nn.CrossEntropyLoss()
    history: list[dict] = []
    if checkpoint is not None and Path(checkpoint).exists():
        history = resume_checkpoint(checkpoint, fingerprint, net, opt, sched, gen, paths)
    pool = net.pool
    pool_np = net.pool_choices.cpu().numpy()
    last = epochs if stop_after is None else stop_after
    bar = tqdm(range(len(history), last), desc=owner, disable=not progress, unit="epoch")
    for e in bar:
        epoch = e + 1
        phase, layer = _phase(epoch, num_layers, warm, per)
        t0 = time.perf_counter()
        net.train()
        total, lambdas = 0.0, []
        for step, (x, y) in enumerate(loader):
            rng = paths.rng
            i = int(rng.integers(len(pool)))
            copies_i = _draw_copies(net, i, rng)
            opt.zero_grad(set_to_none=True)
            if not paired or phase == "warmup":
                loss = criterion(net(x, pool[i], copies_i), y)
                loss.backward()
                total += loss.item() * len(y)
            else:
                l = layer if phase == "layer" else int(rng.integers(num_layers))
                same = pool_np[:, l] == pool_np[i, l]
                if int(net.assignment[i, l]) >= 0:  # assigned: the same copy as well
                    same &= net.assignment[:, l].numpy() == int(net.assignment[i, l])
                mates = np.flatnonzero(same)
                mates = mates[mates != i]
                j = int(mates[rng.integers(len(mates))]) if len(mates) else i
                copies_j = list(_draw_copies(net, j, rng))
                if int(net.assignment[i, l]) < 0:
                    copies_j[l] = copies_i[l]  # the decided layer: the same random copy
                copies_j = tuple(copies_j)
                grads = paired_gradients(net, x, y, pool[i], pool[j], copies_i, copies_j,
                                         criterion)
                update, loss = grads[0], grads[4]
                lambdas += [lam.item() for lam in grads[3][0] if lam.item() > 0]
                if step % meta_interval == 0 and meta_params:
                    meta_loss = lookahead_loss(net, x, y, pool[i], pool[j], copies_i,
                                               copies_j, sched.get_last_lr()[0], grads,
                                               criterion)
                    if meta_loss.requires_grad:  # not when the shared options have no
                        meta_loss.backward()     # weights (identity): nothing to learn
                        opt.step()  # only the meta networks have gradients: a meta step
                        opt.zero_grad(set_to_none=True)
                for n, g in update.items():
                    params[n].grad = g
                total += loss.item() * len(y)
            opt.step()
            sched.step()
        if phase == "layer" and epoch == warm + (layer + 1) * per:
            images = _assign_images(train_data, batch_size, assign_batches, random_state, layer)
            assign_layer(net, layer, images, random_state)
        history.append(dict(epoch=epoch, phase=phase, layer=layer,
                            loss=total / len(train_data),
                            mean_lambda=float(np.mean(lambdas)) if lambdas else float("nan"),
                            lr=sched.get_last_lr()[0], seconds=time.perf_counter() - t0))
        bar.set_postfix(phase=phase, loss=f"{history[-1]['loss']:.3f}")
        if checkpoint is not None:
            save_checkpoint(checkpoint, fingerprint, history, net, opt, sched, gen, paths)
    return history


def _draw_copies(net: DCNASSupernet, i: int, rng) -> tuple[int, ...]:
    """Copy ids of pool architecture ``i``: assigned, else a random copy per layer."""
    assign = net.assignment[i].tolist()
    draws = rng.integers(net.num_copies, size=len(assign))
    return tuple(int(a) if a >= 0 else int(d) for a, d in zip(assign, draws))


def _assign_images(train_data, batch_size, num_batches, random_state, layer) -> list:
    """Fixed training batches of the assignment of ``layer`` (not the data order RNG)."""
    x, _ = tensors_of(train_data)
    g = torch.Generator().manual_seed(_seed(random_state, 11, layer))
    order = torch.randperm(len(x), generator=g)[:batch_size * num_batches]
    return list(torch.split(x[order], batch_size))


# ---------------------------------------------------------------- variants of the harness


def dcnas(space, train_data: Dataset, epochs: int, seed: int, *, num_copies: int = 2,
          meta_interval: int = 5, meta_lr: float = 100.0, **train_kwargs) -> DCNASSupernet:
    """Variant of :mod:`supernet.compare`: DCNAS with ``num_copies`` candidate weights, the
    pool the whole space (up to :data:`MAX_DEFAULT_POOL`), the schedule
    :func:`dcnas_schedule` of ``epochs`` passes. ``functools.partial(dcnas, num_copies=3)``."""
    net = DCNASSupernet(space, num_copies=num_copies, random_state=seed)
    warm, per, fine = dcnas_schedule(epochs, len(net.blocks))
    train_dcnas(net, train_data, warmup_epochs=warm, layer_epochs=per, finetune_epochs=fine,
                meta_interval=meta_interval, meta_lr=meta_lr, random_state=seed,
                progress=False, **train_kwargs)
    return net


def random_assignment(space, train_data: Dataset, epochs: int, seed: int, *,
                      num_copies: int = 2, **train_kwargs) -> DCNASSupernet:
    """Variant: the paper's ablation, ``num_copies`` candidate weights with random ids per
    (pool architecture, layer) fixed from the start, ``epochs`` epochs of single-path
    training over the pool (no pairs, no meta networks)."""
    net = DCNASSupernet(space, num_copies=num_copies, random_state=seed)
    rng = np.random.default_rng(_seed(seed, 13))
    net.assignment.copy_(torch.as_tensor(rng.integers(num_copies, size=tuple(
        net.assignment.shape))))
    train_dcnas(net, train_data, warmup_epochs=epochs, layer_epochs=0, finetune_epochs=0,
                paired=False, random_state=seed, progress=False, **train_kwargs)
    return net
