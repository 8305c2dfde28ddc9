"""The NAS-Bench-201 cell space (Dong & Yang, ICLR 2020, https://arxiv.org/abs/2001.00326)."""
from __future__ import annotations

import re

from torch_geometric.data import Data

from archgraph.spaces.arch_graph import make_arch_graph
from archgraph.spaces.choice_arch import ChoiceArch
from archgraph.spaces.product_space import ProductSpace
from archgraph.spaces.registry import register_search_space
from archgraph.utils.validation import check_int

#: the five candidate operations of an edge, in option-index order
NB201_OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
#: the six edges ``(source, target)`` of the 4-node cell, in the order of the official string
NB201_EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))

# ASCII digits only ("\d" also matches e.g. Arabic-Indic digits, which int() reads)
_NODE_RE = re.compile(r"\|([^|~]+)~([0-9]+)")
_STR_RE = re.compile(r"\|(?:[^|~+]+~[0-9]+\|)+(?:\+\|(?:[^|~+]+~[0-9]+\|)+)*")

# CIFAR network of the benchmark: cells of stage s have C = 16 * 2**s channels on an
# (32 / 2**s)**2 feature map; 5 cells per stage.
_STAGES = ((16, 32 * 32), (32, 16 * 16), (64, 8 * 8))
_CELLS_PER_STAGE = 5


def _cost_tables(num_classes: int) -> dict[str, tuple[float, list[list[float]]]]:
    """Additive (base, per-edge tables) of 'flops', 'benchmark_flops' and 'params' (counts)."""
    macs = {"nor_conv_1x1": 0, "nor_conv_3x3": 0}  # conv MACs of one edge over all 15 cells
    params = {"nor_conv_1x1": 0, "nor_conv_3x3": 0}
    out_elems = 0  # output elements of one edge over all 15 cells
    for c, hw in _STAGES:
        for op, k in (("nor_conv_1x1", 1), ("nor_conv_3x3", 3)):
            macs[op] += _CELLS_PER_STAGE * k * k * c * c * hw
            params[op] += _CELLS_PER_STAGE * (k * k * c * c + 2 * c)  # conv (no bias) + BN affine
        out_elems += _CELLS_PER_STAGE * c * hw

    # fixed part: stem, two residual reduction blocks, last BN-ReLU, pool, classifier
    base_macs = 3 * 16 * 9 * 32 * 32                          # stem conv3x3 3->16
    base_params = 3 * 16 * 9 + 2 * 16                         # + BN
    bn_elems = 16 * 32 * 32                                   # elements through a BN layer
    pool_adds = 0
    for (cin, _), (cout, hw) in zip(_STAGES[:-1], _STAGES[1:]):
        base_macs += 9 * cin * cout * hw + 9 * cout * cout * hw + cin * cout * hw
        base_params += 9 * cin * cout + 9 * cout * cout + cin * cout + 2 * 2 * cout
        bn_elems += 2 * cout * hw
        pool_adds += 4 * cin * hw                             # shortcut avgpool 2x2 stride 2
    bn_elems += 64 * 8 * 8                                    # last BN before global pooling
    base_params += 2 * 64 + 64 * num_classes + num_classes
    base_macs += 64 * num_classes

    flops = [0.0, 0.0, macs["nor_conv_1x1"], macs["nor_conv_3x3"], 0.0]
    # the benchmark's counter also counts 9 adds per output of an avg_pool_3x3 and 3 ops per
    # element leaving a BN layer (measured on its table, see the class docstring)
    bench = [0.0, 0.0, macs["nor_conv_1x1"] + 3 * out_elems,
             macs["nor_conv_3x3"] + 3 * out_elems, 9 * out_elems]
    prm = [0.0, 0.0, params["nor_conv_1x1"], params["nor_conv_3x3"], 0.0]
    n = len(NB201_EDGES)
    return {"flops": (base_macs, [flops] * n),
            "benchmark_flops": (base_macs + pool_adds + 3 * bn_elems, [bench] * n),
            "params": (base_params, [prm] * n)}


@register_search_space("nasbench201")
class NASBench201Space(ProductSpace):
    r"""NAS-Bench-201 / NATS-Bench topology space: a 4-node cell whose 6 edges each carry one of
    5 operations, :math:`5^6 = 15{,}625` cells.

    An architecture is a :class:`ChoiceArch` of 6 op indices, one per edge in the order of the
    official string ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`` (edges 1<-0, 2<-0, 2<-1, 3<-0, 3<-1,
    3<-2), op index in the order of :data:`NB201_OPS` (``none, skip_connect, nor_conv_1x1,
    nor_conv_3x3, avg_pool_3x3``). :meth:`enumerate` and :meth:`index` are the C order of these
    choices (edge 1<-0 slowest, edge 3<-2 fastest): index 0 is the all-``none`` cell, index 1
    differs on edge 3<-2. The benchmark's own ``index`` is a different, shuffled order; it
    belongs to the benchmark tables (their ``index`` column) and travels with them, not with the
    space.

    Cost models (additive over edges, CIFAR network of the benchmark: stem conv3x3 3->16 + BN;
    3 stages of 5 cells with C = 16, 32, 64 on 32x32, 16x16, 8x8 maps; residual reduction blocks
    between stages; BN-ReLU, global pooling, linear 64->``num_classes``):

    - ``"params"`` (count, like every space's costs; the benchmark quotes millions): conv
      weights (no bias) + BN affine + classifier. Equal to the
      benchmark's ``params_m`` column on all shipped CIFAR-10 and CIFAR-100 rows up to its
      6-decimal rounding (|err| <= 5e-6 M).
    - ``"flops"`` (the project's convention): multiply-accumulates of convolution and
      linear layers only. The all-``none`` cell has 7,783,040 (10 classes).
    - ``"benchmark_flops"``: the count of the benchmark's ``flops_m`` column, which
      adds to the MACs 9 adds per output element of each ``avg_pool_3x3`` (4 per output of the
      shortcut pooling) and 3 ops per element leaving a BN layer. Within 0.0015 M
      (2e-4 relative) of the table on all shipped CIFAR-10 rows: the per-edge terms match to the
      table's rounding; the fixed part is 1,086 ops (0.014 %) short of the table's, a constant
      not attributed to any layer. Use it to compare with budgets quoted from the benchmark.

    Args:
        num_classes: classes of the classifier (10 for CIFAR-10, 100 for CIFAR-100); only the
            fixed part of the costs depends on it.
    """

    op_names = ("input",) + NB201_OPS + ("output",)

    def __init__(self, num_classes: int = 10):
        self.num_classes = check_int(num_classes, "num_classes", "NASBench201Space", low=1)
        super().__init__("nasbench201", [NB201_OPS] * len(NB201_EDGES),
                         layer_names=[f"{j}<-{i}" for i, j in NB201_EDGES])
        for metric, (base, tables) in _cost_tables(self.num_classes).items():
            self._set_cost(metric, base, tables)

    def default_arch(self) -> ChoiceArch:
        """The all-``nor_conv_3x3`` cell, the start of iterative searches (choice 0 everywhere
        would be the all-``none`` cell, whose output is disconnected)."""
        return ChoiceArch(self.name, (NB201_OPS.index("nor_conv_3x3"),) * len(NB201_EDGES))

    # -- strings -------------------------------------------------------------------------
    def from_str(self, s: str) -> ChoiceArch:
        """Parse the official string, e.g. ``|nor_conv_3x3~0|+|none~0|skip_connect~1|+|...|``."""
        if not isinstance(s, str):
            raise TypeError(f"The 's' parameter of NASBench201Space.from_str must be a str. "
                            f"Got {type(s).__name__} instead.")
        if not _STR_RE.fullmatch(s):
            raise ValueError(f"Malformed NAS-Bench-201 string {s!r}: expected "
                             f"'|op~0|+|op~0|op~1|+|op~0|op~1|op~2|'.")
        nodes = s.split("+")
        if len(nodes) != 3:
            raise ValueError(f"A NAS-Bench-201 string has 3 nodes separated by '+'. Got "
                             f"{len(nodes)} in {s!r}.")
        choices = []
        for j, node in enumerate(nodes, start=1):
            edges = _NODE_RE.findall(node)
            if [i for _, i in edges] != [str(i) for i in range(j)]:  # '~01' is not '~1'
                raise ValueError(f"Node {j} of a NAS-Bench-201 string must list inputs "
                                 f"'~0' to '~{j - 1}' in order. Got {node!r}.")
            for op, _ in edges:
                if op not in NB201_OPS:
                    raise ValueError(f"Unknown NAS-Bench-201 op {op!r} in {s!r}; valid ops are "
                                     f"{', '.join(NB201_OPS)}.")
                choices.append(NB201_OPS.index(op))
        # string order is node 1's inputs, node 2's, node 3's: exactly NB201_EDGES
        return ChoiceArch(self.name, tuple(choices))

    def to_str(self, arch) -> str:
        ops = [NB201_OPS[c] for c in self.validate(arch).choices]
        nodes, k = [], 0
        for j in range(1, 4):
            nodes.append("|" + "|".join(f"{ops[k + i]}~{i}" for i in range(j)) + "|")
            k += j
        return "+".join(nodes)

    # -- graphs --------------------------------------------------------------------------
    def to_graph(self, arch, y: float | None = None) -> Data:
        """Ops-on-nodes graph of ``arch`` (the one place NB201's edge ops become node ops).

        Node 0 is the input, then one node per edge carrying its op, in string order, then the
        output. Edge-node ``i->j`` feeds every edge-node leaving ``j``; edge-nodes leaving cell
        node 0 are fed by the input; edge-nodes entering cell node 3 feed the output.

        ``none`` edges carry no data, so they are removed, and so is every edge-node that is no
        longer on an input->output path (its result never reaches the output, or it only ever
        receives zeros). A cell whose output is disconnected (it always outputs zeros) becomes
        the two nodes input and output with no edge: a valid graph that says no data flows.
        """
        choices = self.validate(arch).choices
        kept = [e for e, c in enumerate(choices) if NB201_OPS[c] != "none"]
        fed = {e for e in kept if NB201_EDGES[e][0] == 0}        # reachable from the input
        for e in kept:  # string order is topological: edges into j come before edges out of j
            if e not in fed and any(NB201_EDGES[f][1] == NB201_EDGES[e][0] for f in fed):
                fed.add(e)
        feeds = {e for e in kept if NB201_EDGES[e][1] == 3}      # reaching the output
        for e in reversed(kept):
            if e not in feeds and any(NB201_EDGES[f][0] == NB201_EDGES[e][1] for f in feeds):
                feeds.add(e)
        live = [e for e in kept if e in fed and e in feeds]
        node = {e: k + 1 for k, e in enumerate(live)}            # graph node of each edge
        out = len(live) + 1
        ops = [0] + [1 + choices[e] for e in live] + [len(self.op_names) - 1]
        edges = []
        for e in live:
            i, j = NB201_EDGES[e]
            if i == 0:
                edges.append((0, node[e]))
            if j == 3:
                edges.append((node[e], out))
            edges += [(node[e], node[f]) for f in live if NB201_EDGES[f][0] == j]
        return make_arch_graph(ops, edges, self.num_ops, y)

    def __repr__(self) -> str:
        return f"NASBench201Space(num_classes={self.num_classes})"
