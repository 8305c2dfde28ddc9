"""Shared fixtures. Tests that read ``../shared/data`` use ``shared_data`` and skip, saying why,
when the folder is absent."""
from __future__ import annotations

import pytest
import torch

from archgraph.utils.paths import shared_data_dir


@pytest.fixture(scope="session")
def shared_data():
    path = shared_data_dir()
    if path is None:
        pytest.skip("benchmark tables not found: ../shared/data is absent "
                    "(set ARCHGRAPH_DATA to their folder)")
    return path


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """Test workloads are tiny: one thread is fastest for them and keeps timings steady."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# hypothesis: bounded in the default run; HYPOTHESIS_PROFILE=fuzz (2,000 examples per property)
# for the long run recorded in BENCHMARKS.md
try:
    import os

    from hypothesis import HealthCheck, settings

    settings.register_profile("default", max_examples=40, deadline=None,
                              suppress_health_check=[HealthCheck.too_slow])
    settings.register_profile("fuzz", max_examples=2000, deadline=None,
                              suppress_health_check=[HealthCheck.too_slow])
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
except ImportError:  # hypothesis is a dev dependency; its tests import it themselves
    pass
