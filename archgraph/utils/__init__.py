from archgraph.utils.validation import (NotFittedError, check_finite, check_fraction, check_int,
                                        check_one_of, check_positive, check_random_state,
                                        shared_data_dir, atomic_write, atomic_path)

__all__ = ["NotFittedError", "check_finite", "check_fraction", "check_int", "check_one_of",
           "check_positive", "check_random_state", "shared_data_dir", "atomic_write", "atomic_path"]
