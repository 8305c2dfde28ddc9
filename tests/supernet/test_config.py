import pytest

from archgraph.spaces import get_search_space
from supernet import SupernetConfig


def test_published_fills_every_field():
    cfg = SupernetConfig.published(get_search_space("fairnas"))
    assert (cfg.input_resolution, cfg.in_channels, cfg.num_classes, cfg.stem_stride) == (
        224, 3, 1000, 2)
    nb = SupernetConfig.published(get_search_space("nasbench201"))
    assert (nb.input_resolution, nb.cells_per_stage, nb.num_classes) == (32, 5, 10)


def test_resolve_keeps_given_fields():
    cfg = SupernetConfig(input_resolution=8, in_channels=1).resolve(get_search_space("macro"))
    assert (cfg.input_resolution, cfg.in_channels, cfg.num_classes) == (8, 1, 10)


@pytest.mark.parametrize("kw,match", [(dict(width_mult=0), "'width_mult'"),
                                      (dict(in_channels=0), "'in_channels'"),
                                      (dict(num_classes=2.5), "'num_classes'")])
def test_bad_values(kw, match):
    with pytest.raises(ValueError, match=match):
        SupernetConfig(**kw)


def test_space_without_supernet():
    with pytest.raises(TypeError, match="No supernet exists for the 'nasbench101' space"):
        SupernetConfig.published(get_search_space("nasbench101"))


def test_fields_of_other_space_kinds_are_refused():
    with pytest.raises(ValueError, match="'cells_per_stage' parameter of SupernetConfig does "
                                         "not apply to the 'macro' space"):
        SupernetConfig(cells_per_stage=2).resolve(get_search_space("macro"))
    with pytest.raises(ValueError, match="'stem_stride' parameter of SupernetConfig does not "
                                         "apply to the 'nasbench201' space"):
        SupernetConfig(stem_stride=1).resolve(get_search_space("nasbench201"))
