"""Shared fixtures. Tests that read ``../shared/data`` use ``shared_data`` and skip, saying why,
when the folder is absent."""
from __future__ import annotations

import pytest

from archgraph.utils.validation import shared_data_dir


@pytest.fixture(scope="session")
def shared_data():
    path = shared_data_dir()
    if path is None:
        pytest.skip("benchmark tables not found: ../shared/data is absent "
                    "(set ARCHGRAPH_DATA to their folder)")
    return path
