"""Predictor files (``predictor.save`` / ``archgraph.predictors.load``): a round trip for every
registered predictor, and refused foreign, truncated, altered and mismatched files."""
import json

import numpy as np
import pytest
import torch
from safetensors.numpy import save_file
from sklearn.base import clone

from archgraph.predictors import (
    NeuralClassifier,
    NeuralPredictor,
    RidgePredictor,
    SpaceGCNPredictor,
    get_predictor,
    list_predictors,
    load,
)
from archgraph.predictors.serialization import FORMAT
from archgraph.spaces import get_search_space

NET = dict(hidden_channels=8, fc_channels=(8,), epochs=5, batch_size=32, lr=1e-2)
FAST = {"neural": NET, "random_forest": dict(n_estimators=7), "xgboost": dict(n_estimators=10),
        "gp": dict(n_restarts_optimizer=0),
        "space_gcn": dict(hidden_channels=8, epochs=10),
        "two_stage": dict(classifier=NeuralClassifier(**NET), regressor=NeuralPredictor(**NET))}


@pytest.fixture(scope="module")
def data():
    root = get_search_space("macro")
    space = root.subspace([0, 2, 3, 5, 7], root.sample(1, rng=3)[0])  # 243 architectures
    archs = list(space.enumerate())
    c = space.encode(archs)
    y = 60.0 + 5.0 * (c == 2).sum(1) + 2.0 * (c[:, :2] == 1).sum(1) + 0.1 * c[:, 4]
    idx = np.random.default_rng(0).permutation(len(archs))
    return space, [archs[i] for i in idx[:60]], y[idx[:60]], [archs[i] for i in idx[60:120]]


def _fitted(name, space, archs, y):
    kw = dict(FAST.get(name, {}))
    if name == "two_stage":
        kw["threshold"] = float(np.median(y))
    if "random_state" in get_predictor(name).get_params(deep=False):
        kw["random_state"] = 0
    return get_predictor(name, space=space, **kw).fit(archs, y)


def _fitted_attrs(est) -> set:
    return {k for k in vars(est) if k.endswith("_") and not k.startswith("_")}


@pytest.mark.parametrize("name", list_predictors())
def test_round_trip_predicts_the_same(name, data, tmp_path):
    space, archs, y, test = data
    model = _fitted(name, space, archs, y)
    path = model.save(tmp_path / f"{name}.safetensors")
    loaded = load(path)
    assert type(loaded) is type(model)
    # stored float32/float64 tensors are bit-exact and the same code computes with them
    np.testing.assert_array_equal(loaded.predict(test), model.predict(test))
    assert _fitted_attrs(loaded) == _fitted_attrs(model)
    assert set(loaded.get_params(deep=False)) == set(model.get_params(deep=False))
    assert loaded.get_params(deep=False)["space"] is not None or name == "space_gcn"
    assert clone(loaded).get_params(deep=False).keys() == model.get_params(deep=False).keys()
    # whole-space prediction works on the rebuilt (sub)space too
    np.testing.assert_array_equal(loaded.predict_space(), model.predict_space())


def test_unfitted_round_trip_keeps_parameters(tmp_path):
    model = NeuralPredictor(get_search_space("nasbench201"), fc_channels=(16, 8), lr=0.02,
                            output_range=(10.0, 100.0), random_state=3)
    loaded = load(model.save(tmp_path / "p.safetensors"))
    assert loaded.get_params(deep=False).keys() == model.get_params(deep=False).keys()
    params = loaded.get_params(deep=False)
    assert params["fc_channels"] == (16, 8) and params["output_range"] == (10.0, 100.0)
    assert params["space"].name == "nasbench201" and params["lr"] == 0.02


def test_two_stage_nests_its_stages(data, tmp_path):
    space, archs, y, test = data
    model = _fitted("two_stage", space, archs, y)
    loaded = load(model.save(tmp_path / "t.safetensors"))
    assert isinstance(loaded.classifier_, NeuralClassifier)
    assert isinstance(loaded.regressor_, NeuralPredictor)
    np.testing.assert_array_equal(loaded.accept_proba(test), model.accept_proba(test))


def test_generator_random_state_round_trips(tmp_path):
    space = get_search_space("nasbench201")
    model = SpaceGCNPredictor(space, random_state=np.random.default_rng(5))
    loaded = load(model.save(tmp_path / "g.safetensors"))
    gen = loaded.get_params()["random_state"]
    assert gen.integers(1000) == np.random.default_rng(5).integers(1000)


def test_legacy_random_state_is_refused(tmp_path):
    model = SpaceGCNPredictor(random_state=np.random.RandomState(0))
    with pytest.raises(TypeError, match="'params.random_state' is a RandomState.*without pickle"):
        model.save(tmp_path / "r.safetensors")
    assert not (tmp_path / "r.safetensors").exists()


@pytest.fixture(scope="module")
def saved(data, tmp_path_factory):
    space, archs, y, _ = data
    path = tmp_path_factory.mktemp("p") / "ridge.safetensors"
    RidgePredictor(space).fit(archs, y).save(path)
    return path


def test_truncated_file_is_refused(saved, tmp_path):
    raw = saved.read_bytes()
    for size in (0, 5, 100, len(raw) - 10):
        bad = tmp_path / f"cut{size}.safetensors"
        bad.write_bytes(raw[:size])
        with pytest.raises(ValueError, match=rf"^Predictor file '{bad}' is unreadable \(") as e:
            load(bad)
        assert "\n" not in str(e.value)


def test_altered_file_is_refused(saved, tmp_path):
    raw = bytearray(saved.read_bytes())
    raw[-3] ^= 0xFF  # a byte of the last tensor
    bad = tmp_path / "flip.safetensors"
    bad.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="is corrupted: its content does not match its sha256"):
        load(bad)


def test_foreign_files_are_refused(tmp_path):
    plain = tmp_path / "plain.safetensors"
    save_file({"w": np.zeros(3, dtype=np.float32)}, str(plain))
    with pytest.raises(ValueError, match="is not an archgraph predictor file: its metadata"):
        load(plain)
    text = tmp_path / "table.csv"
    text.write_text("arch,accuracy\n0123,91.0\n")
    with pytest.raises(ValueError, match=f"Predictor file '{text}' is unreadable"):
        load(text)
    ckpt = tmp_path / "model.pt"
    torch.save({"w": torch.zeros(2)}, ckpt)
    with pytest.raises(ValueError, match="is unreadable"):
        load(ckpt)
    with pytest.raises(FileNotFoundError, match="No predictor file at"):
        load(tmp_path / "missing.safetensors")


def _rewrite_header(path, out, change):
    """A copy of ``path`` whose JSON header is edited by ``change`` (checksum left as is)."""
    from safetensors import safe_open
    from safetensors.numpy import load_file
    with safe_open(str(path), "np") as fh:
        meta = dict(fh.metadata())
    header = json.loads(meta["archgraph"])
    change(header)
    meta["archgraph"] = json.dumps(header)
    save_file(load_file(str(path)), str(out), metadata=meta)
    return out


def test_other_version_and_kind_are_refused(saved, tmp_path):
    v2 = _rewrite_header(saved, tmp_path / "v2.safetensors",
                         lambda h: h.update(version=2))
    with pytest.raises(ValueError, match="is of format version 2; this archgraph reads version 1"):
        load(v2)
    kind = _rewrite_header(saved, tmp_path / "kind.safetensors",
                           lambda h: h.update(format="archgraph.LookupTable"))
    with pytest.raises(ValueError, match=f"is not an archgraph predictor file .*{FORMAT}"):
        load(kind)
    edited = _rewrite_header(saved, tmp_path / "edit.safetensors",
                             lambda h: h["params"].update(alpha=5.0))
    with pytest.raises(ValueError, match="is corrupted"):
        load(edited)


def test_unregistered_predictor_is_refused(saved, tmp_path):
    from safetensors import safe_open
    from safetensors.numpy import load_file

    from archgraph.predictors import serialization
    from archgraph.utils.io import state_digest
    with safe_open(str(saved), "np") as fh:
        meta = dict(fh.metadata())
    header = json.loads(meta["archgraph"])
    header["estimator"] = "os:system"
    meta["archgraph"] = json.dumps(header, sort_keys=True)
    arrays = load_file(str(saved))
    meta["sha256"] = state_digest({"header": meta["archgraph"], "arrays": arrays})
    bad = tmp_path / "evil.safetensors"
    save_file(arrays, str(bad), metadata=meta)
    with pytest.raises(ValueError, match="class 'os:system', which is not loaded"):
        load(bad)
    assert serialization.estimator_name(RidgePredictor()) == "ridge"


def test_file_of_another_space_is_refused(data, saved):
    space = data[0]
    with pytest.raises(ValueError, match=f"Predictor file '{saved}' is of the 'macro' space"):
        load(saved, space=get_search_space("nasbench201"))
    other = space.root.subspace([1, 2], space.root.sample(1, rng=9)[0])
    with pytest.raises(ValueError, match="is of the 'macro' space .*differ"):
        load(saved, space=other)
    assert load(saved, space=space).space is space


def test_unregistered_space_needs_the_space(tmp_path):
    from archgraph.spaces import ProductSpace
    space = ProductSpace("my_unregistered", [["a", "b", "c"]] * 4)
    archs = space.sample(20, rng=0)
    y = np.arange(20, dtype=float)
    path = RidgePredictor(space).fit(archs, y).save(tmp_path / "c.safetensors")
    with pytest.raises(ValueError, match="'my_unregistered' space, which is not registered"):
        load(path)
    np.testing.assert_array_equal(load(path, space=space).predict(archs),
                                  RidgePredictor(space).fit(archs, y).predict(archs))


def test_archs_as_strings(data):
    space, archs, y, test = data
    strings = [space.to_str(a) for a in archs]
    by_str = RidgePredictor(space).fit(strings, y)
    np.testing.assert_array_equal(by_str.predict([space.to_str(a) for a in test]),
                                  RidgePredictor(space).fit(archs, y).predict(test))
    with pytest.raises(ValueError, match="architecture string of the 'macro' space"):
        by_str.predict(["0000000x"])
