"""Datasets: loaders of the published NAS benchmark tables (``load_nasbench201``,
``load_nasbench101``, ``load_macro``)."""
from archgraph.datasets.benchmarks import load_macro, load_nasbench101, load_nasbench201

__all__ = ["load_macro", "load_nasbench101", "load_nasbench201"]
