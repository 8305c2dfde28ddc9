"""Space signatures: what files store of their search space, and the space rebuilt from it.

:func:`space_signature` is JSON-ready: a product space's (or subspace's)
:meth:`~archgraph.spaces.ProductSpace.signature` (name, layers, options, and a subspace's base
and factors), ``{"space": name}`` for other spaces. :func:`space_from_signature` rebuilds the
space from the registry of search spaces (never by importing code named in a file) and checks
the rebuilt space has the stored signature; a given ``space`` is checked instead of rebuilt.
"""
from __future__ import annotations

from archgraph.spaces.product_space import ProductSpace, Subspace
from archgraph.spaces.registry import SEARCH_SPACES, get_search_space
from archgraph.spaces.search_space import SearchSpace


def space_signature(space: SearchSpace) -> dict:
    """JSON-ready signature of ``space`` (see the module docstring)."""
    if isinstance(space, ProductSpace):
        return space.signature()
    return {"space": space.name}


def _differ(saved: dict, given: dict) -> str:
    keys = [k for k in sorted(set(saved) | set(given)) if saved.get(k) != given.get(k)]
    return ", ".join(keys)


def space_from_signature(signature, what: str, space: SearchSpace | None = None
                         ) -> SearchSpace:
    """The space of a stored ``signature``; ``what`` names the file in errors (``"Predictor
    file 'p.safetensors'"``).

    With ``space`` given, it is checked against the signature and returned. Otherwise the
    registered space of the signature's name is built (a subspace from its root, base and
    factors); a name that is not registered, or a registered space whose layers or options
    differ from the stored ones, is refused with a ``ValueError`` saying to pass ``space=``.
    """
    if not isinstance(signature, dict) or not isinstance(signature.get("space"), str):
        raise ValueError(f"{what} does not name its search space (no valid space signature).")
    name = signature["space"]
    if space is not None:
        if not isinstance(space, SearchSpace):
            raise TypeError(f"The 'space' argument must be a SearchSpace or None. Got "
                            f"{type(space).__name__} instead.")
        given = space_signature(space)
        if given != signature:
            raise ValueError(f"{what} is of the {name!r} space ({_differ(signature, given)} "
                             f"differ from the given {space.name!r} space).")
        return space
    if name not in SEARCH_SPACES:
        raise ValueError(f"{what} is of the {name!r} space, which is not registered "
                         f"(register it with register_search_space, or pass space=).")
    root = get_search_space(name)
    if "factors" in signature:
        if not isinstance(root, ProductSpace):
            raise ValueError(f"{what} stores a subspace of {name!r}, which is not a product "
                             f"space.")
        try:
            base = root.from_str(signature["base"])
            rebuilt = Subspace(root, base, [(tuple(l), [tuple(o) for o in opts])
                                            for l, opts in signature["factors"]],
                               names=signature.get("layers"),
                               option_names=signature.get("options"))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{what} stores a subspace of {name!r} that cannot be rebuilt: "
                             f"{exc}") from exc
    else:
        rebuilt = root
    given = space_signature(rebuilt)
    if given != signature:
        raise ValueError(f"{what} is of a {name!r} space other than the registered one "
                         f"({_differ(signature, given)} differ); pass its space with space=.")
    return rebuilt
