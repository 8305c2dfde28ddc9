"""archgraph: performance prediction for NAS with graph neural networks.

``archgraph.LookupTable`` is :class:`archgraph.lookup.LookupTable`, imported on first use (so
``import archgraph`` and ``archgraph --help`` stay light).
"""
__version__ = "0.1.0"


def __getattr__(name: str):
    if name == "LookupTable":
        from archgraph.lookup import LookupTable

        return LookupTable
    raise AttributeError(f"module 'archgraph' has no attribute {name!r}")
