import pytest

from archgraph.evaluators import (
    EVALUATORS,
    TableEvaluator,
    get_evaluator,
    list_evaluators,
    table_evaluator,
)
from archgraph.spaces import get_search_space


def test_table_and_the_supernet_plugins_are_listed():
    assert {"table", "supernet", "standalone"} <= set(list_evaluators())
    assert EVALUATORS.get("table") is table_evaluator


@pytest.mark.data
def test_get_evaluator_builds_the_table_evaluator(shared_data):
    ev = get_evaluator("table", get_search_space("macro"), data_dir=shared_data, noise_std=0.5,
                       random_state=0)
    assert isinstance(ev, TableEvaluator) and ev.target_column == "mean_acc"
    assert ev.noise_std == 0.5


def test_unknown_evaluator():
    with pytest.raises(ValueError, match="'name' parameter of get_evaluator must be one of .*"
                                         "Got 'tabel' instead. Did you mean 'table'"):
        get_evaluator("tabel", get_search_space("macro"))
