import pytest

from archgraph.utils.registry import Registry


def test_register_get_list():
    things = Registry("thing")

    @things.register("beta")
    def beta():
        return "b"

    things.register("alpha")(str)
    assert beta() == "b" and things.get("beta") is beta and things.get("alpha") is str
    assert things.list() == ["alpha", "beta"] and things.list("b*") == ["beta"]
    assert "alpha" in things and "gamma" not in things


def test_errors_name_the_valid_and_close_names():
    things = Registry("thing")
    things.register("nasbench201")(object)
    things.register("macro")(object)
    with pytest.raises(ValueError, match="The 'name' parameter of get_thing must be one of "
                                         "'macro', 'nasbench201'. Got 'nasbench210' instead. "
                                         "Did you mean 'nasbench201'\\?"):
        things.get("nasbench210", owner="get_thing")
    with pytest.raises(ValueError, match="'--kind' parameter of the thing registry must be one "
                                         "of 'macro', 'nasbench201'. Got 'zzz' instead.$"):
        things.get("zzz", param="--kind")
    with pytest.raises(TypeError, match="'name' parameter of the thing registry must be a str. "
                                        "Got int instead"):
        things.get(3)
    with pytest.raises(ValueError, match="A thing named 'macro' is already registered"):
        things.register("macro")(object)
    with pytest.raises(TypeError, match="A thing must be registered under a non-empty str. "
                                        "Got '' instead"):
        things.register("")


def test_installed_entry_points_are_offered_after_the_own_names():
    from supernet.evaluator import SupernetEvaluator

    evaluators = Registry("evaluator", entry_point_group="archgraph.evaluators")
    assert {"supernet", "standalone"} <= set(evaluators.list())
    assert evaluators.get("supernet") == SupernetEvaluator.from_checkpoint
    evaluators.register("supernet")(len)  # a name of the package wins over a plugin's
    assert evaluators.get("supernet") is len


@pytest.mark.parametrize("package, registry", [("archgraph.spaces", "SEARCH_SPACES"),
                                               ("archgraph.predictors", "PREDICTORS"),
                                               ("archgraph.evaluators", "EVALUATORS")])
def test_every_registered_class_is_exported_by_its_package(package, registry):
    """Registered classes (and the factories of evaluators) are importable from the package
    that registers them; plugins of other packages are theirs to export."""
    import importlib
    import inspect

    module = importlib.import_module(package)
    reg = getattr(module, registry)
    assert reg.list()
    for name in reg.list():
        obj = reg.get(name)
        own = getattr(obj, "__module__", "").startswith(package + ".")
        if own and (inspect.isclass(obj) or registry == "EVALUATORS"):
            assert getattr(module, obj.__name__) is obj, (package, name)
            assert obj.__name__ in module.__all__, (package, name)
