from __future__ import annotations

import numpy as np
import pytest

from archgraph.spaces import LatencyLUT, get_search_space, load_latency_lut

LUT = "proxylessnas/pixel1_latency_lut.yaml"


@pytest.mark.data
def test_proxylessnas_latency_sums_lut_entries(shared_data):
    lut = load_latency_lut(shared_data / LUT)
    assert len(lut) == 72
    space = get_search_space("proxylessnas").add_latency(lut)
    assert "latency" in space.cost_metrics
    a = space.default_arch()
    fixed = (lut["Conv-input:224x224x3-output:112x112x32"]
             + lut["expanded_conv-input:112x112x32-output:112x112x16-expand:1-kernel:3-stride:1"
                   "-idskip:0"]
             + lut["Conv_1-input:7x7x320-output:7x7x1280"]
             + lut["Logits-input:7x7x1280-output:1000"])
    first = lut["expanded_conv-input:112x112x16-output:56x56x24-expand:6-kernel:3-stride:2"
                "-idskip:0"]
    base, tables = space.cost_tables("latency")
    assert base == pytest.approx(fixed) and tables[0][1] == pytest.approx(first)
    assert tables[1][-1] == 0.0  # skip
    # subspaces inherit the latency model and stay vectorized
    assert space.cost("latency", [a])[0] == pytest.approx(126.77, abs=0.01)  # all k3_e6, ms
    sub = space.subspace([1, 2], a)
    loop = [space.cost("latency", [x])[0] for x in sub.enumerate()]
    np.testing.assert_allclose(sub.costs("latency"), loop)


@pytest.mark.data
def test_missing_entry_is_named(shared_data):
    lut = load_latency_lut(shared_data / LUT)
    with pytest.raises(ValueError, match=r"no entry 'expanded_conv-input:112x112x16-output:"
                                         r"56x56x32-expand:3-kernel:3-stride:2-idskip:0'"):
        get_search_space("fairnas").add_latency(lut)


def test_lut_lookups_and_keys():
    key = LatencyLUT.op_key("k5_e3", 24, 24, 1, 56)
    assert key == "expanded_conv-input:56x56x24-output:56x56x24-expand:3-kernel:5-stride:1-idskip:1"
    assert LatencyLUT.op_key("skip", 24, 24, 1, 56) is None
    assert LatencyLUT.op_key("conv_k1", 320, 1280, 1, 7, "Conv_1") == \
        "Conv_1-input:7x7x320-output:7x7x1280"
    lut = LatencyLUT({key: 2.5})
    assert lut.op_latency("k5_e3", 24, 24, 1, 56) == 2.5 and key in lut
    assert lut.op_latency("identity", 24, 24, 1, 56) == 0.0
    with pytest.raises(ValueError, match="no entry 'identity-input:56x56x24-output:28x28x40"):
        lut.op_latency("identity", 24, 40, 2, 56)


def test_load_errors(tmp_path):
    with pytest.raises(ValueError, match="'path' parameter of load_latency_lut must be an "
                                         "existing YAML file"):
        load_latency_lut(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a\n- b\n")
    with pytest.raises(ValueError, match="must map keys to entries. Got list"):
        load_latency_lut(bad)
    bad.write_text("Conv-input:1x1x1-output:1x1x1: 3.0\n")
    with pytest.raises(ValueError, match="must be a mapping with a 'mean' value. Got 3.0"):
        load_latency_lut(bad)
    for value in ("fast", "-1.0", ".nan"):
        bad.write_text(f"k:\n  mean: {value}\n")
        with pytest.raises(ValueError, match="Entry 'k' .* must have a finite, non-negative "
                                             "number as 'mean' \\(ms\\). Got"):
            load_latency_lut(bad)
    good = tmp_path / "good.yaml"
    good.write_text("k:\n  mean: 1.5\n  var: 0.1\n  count: 3\n")
    assert load_latency_lut(good)["k"] == 1.5
    assert load_latency_lut(good, stat="var")["k"] == 0.1


def test_python_tags_and_broken_yaml_give_one_line_naming_the_file(tmp_path):
    marker = tmp_path / "ran"
    cases = {
        "tag": f"k: !!python/object/apply:os.system ['touch {marker}']\n",
        "tag2": "k: !!python/name:os.system\n",
        "broken": "k: [1, 2\n  mean: {\n",
    }
    for name, text in cases.items():
        bad = tmp_path / f"{name}.yaml"
        bad.write_text(text)
        with pytest.raises(ValueError) as info:
            load_latency_lut(bad)
        msg = str(info.value)
        assert str(bad) in msg and "\n" not in msg and "not a plain YAML file" in msg, msg
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(bytes(range(128, 256)))
    with pytest.raises(ValueError, match=r"'.*binary.yaml' is not a plain YAML file"):
        load_latency_lut(binary)
    assert not marker.exists()  # nothing was run
