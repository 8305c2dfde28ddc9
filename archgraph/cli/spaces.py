"""``archgraph spaces``: list the registered search spaces with their sizes."""
from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("spaces", help="list the registered search spaces")
    p.set_defaults(func=run)


def run(args) -> int:
    from archgraph.spaces import get_search_space, list_search_spaces
    print(f"{'space':<14} {'architectures':>22}  layers/options")
    for name in list_search_spaces():
        space = get_search_space(name)
        try:
            size = f"{len(space):,}"
        except NotImplementedError:
            size = "(not enumerable)"
        shape = getattr(space, "num_options", "-")
        print(f"{name:<14} {size:>22}  {shape}")
    return 0
