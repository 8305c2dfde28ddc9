"""Datasets: the registry of the published NAS benchmark tables (``BENCHMARKS``) and their
loaders (``load_nasbench201``, ``load_nasbench101``, ``load_macro``), and
``SyntheticBenchmark``, known accuracies for any product space; predictor datasets
(``build_predictor_dataset``, ``read_predictor_dataset(path) -> (archs, y)``)."""
from archgraph.datasets.benchmarks import (
    BENCHMARKS,
    Benchmark,
    load_macro,
    load_nasbench101,
    load_nasbench201,
)
from archgraph.datasets.predictor_dataset import (
    build_predictor_dataset,
    read_predictor_dataset,
    read_table,
)
from archgraph.datasets.synthetic import SyntheticBenchmark

__all__ = ["BENCHMARKS", "Benchmark", "SyntheticBenchmark", "build_predictor_dataset",
           "load_macro", "load_nasbench101", "load_nasbench201", "read_predictor_dataset",
           "read_table"]
