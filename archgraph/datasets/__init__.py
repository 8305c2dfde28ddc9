"""Datasets: the registry of the published NAS benchmark tables (``BENCHMARKS``) and their
loaders (``load_nasbench201``, ``load_nasbench101``, ``load_macro``), and
``SyntheticBenchmark``, known accuracies for any product space."""
from archgraph.datasets.benchmarks import (
    BENCHMARKS,
    Benchmark,
    load_macro,
    load_nasbench101,
    load_nasbench201,
)
from archgraph.datasets.synthetic import SyntheticBenchmark

__all__ = ["BENCHMARKS", "Benchmark", "SyntheticBenchmark", "load_macro", "load_nasbench101",
           "load_nasbench201"]
