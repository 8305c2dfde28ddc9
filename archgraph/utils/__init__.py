"""Helpers under everything: argument validation, atomic file writes, data paths, registries,
memory checks."""
from archgraph.utils.io import atomic_path, atomic_write
from archgraph.utils.paths import shared_data_dir
from archgraph.utils.registry import Registry
from archgraph.utils.validation import (
    check_bound,
    check_finite,
    check_fraction,
    check_int,
    check_one_of,
    check_positive,
    check_random_state,
)

__all__ = ["Registry", "atomic_path", "atomic_write", "check_bound", "check_finite",
           "check_fraction", "check_int", "check_one_of", "check_positive", "check_random_state",
           "shared_data_dir"]
