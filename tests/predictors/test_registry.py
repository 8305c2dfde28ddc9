import pytest

from archgraph.predictors import NeuralPredictor, get_predictor, list_predictors, register_predictor
from archgraph.spaces import get_search_space


def test_names_and_lookup():
    names = list_predictors()
    assert {"neural", "two_stage", "ridge", "random_forest"} <= set(names)
    assert names == sorted(names)
    assert list_predictors("r*") == [n for n in names if n.startswith("r")]
    space = get_search_space("macro")
    model = get_predictor("neural", space=space, epochs=5)
    assert isinstance(model, NeuralPredictor) and model.epochs == 5


def test_errors():
    with pytest.raises(ValueError, match="must be one of .*Did you mean 'neural'"):
        get_predictor("nueral")
    with pytest.raises(TypeError, match="'name' parameter of get_predictor must be a str"):
        get_predictor(3)
    with pytest.raises(ValueError, match="A predictor named 'neural' is already registered"):
        register_predictor("neural")(NeuralPredictor)

