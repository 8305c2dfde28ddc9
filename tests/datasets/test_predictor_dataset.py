import json

import numpy as np
import pandas as pd
import pytest

from archgraph.datasets import SyntheticBenchmark
from archgraph.datasets.predictor_dataset import build_predictor_dataset, read_table
from archgraph.spaces import get_search_space


@pytest.fixture
def space():
    return get_search_space("macro")


@pytest.fixture
def evaluator(space):
    """Exact synthetic accuracies (additive effects around 50)."""
    return SyntheticBenchmark(space, offset=50.0, random_state=0)


class Crashing:
    """Forwards to an evaluator, then fails on call ``fail_at`` (an interrupted job)."""

    def __init__(self, inner, fail_at):
        self.inner, self.space, self.fail_at, self.calls = inner, inner.space, fail_at, 0

    def evaluate(self, archs):
        self.calls += 1
        if self.calls == self.fail_at:
            raise KeyboardInterrupt
        return self.inner.evaluate(archs)

    def __repr__(self):
        return repr(self.inner)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_table_columns_and_values(space, evaluator, tmp_path, suffix):
    path = tmp_path / f"t{suffix}"
    table = build_predictor_dataset(space, evaluator, 10, path, random_state=1, progress=False)
    assert list(table.columns) == ["arch", "space", *space.layer_names, "accuracy", "flops",
                                   "params", "evaluator", "seed"]
    archs = [space.from_str(s) for s in table["arch"]]
    assert archs == space.sample(10, 1)
    np.testing.assert_array_equal(table["accuracy"], evaluator.true_accuracy(archs))
    np.testing.assert_allclose(table["flops"], space.cost("flops", archs))
    np.testing.assert_array_equal(table[space.layer_names[0]], space.encode(archs)[:, 0])
    assert (table["seed"] == 1).all()
    pd.testing.assert_frame_equal(read_table(path), table, check_dtype=False)


def test_resume_after_interruption(space, evaluator, tmp_path):
    path = tmp_path / "t.csv"
    with pytest.raises(KeyboardInterrupt):
        build_predictor_dataset(space, Crashing(evaluator, 3), 20, path, chunk_size=4,
                                progress=False)
    assert len(read_table(path)) == 8  # two complete chunks, nothing half-written
    resumed = Crashing(evaluator, 0)
    table = build_predictor_dataset(space, resumed, 20, path, chunk_size=4, progress=False)
    assert resumed.calls == 3  # only the 12 missing architectures
    ref = build_predictor_dataset(space, Crashing(evaluator, 0), 20, tmp_path / "ref.csv",
                                  progress=False)
    pd.testing.assert_frame_equal(table, ref)


def test_refuses_to_mix_evaluators_or_seeds(space, evaluator, tmp_path):
    path = tmp_path / "t.csv"
    build_predictor_dataset(space, evaluator, 4, path, progress=False)
    with pytest.raises(ValueError, match="Cannot resume .* its 'seed' column holds"):
        build_predictor_dataset(space, evaluator, 4, path, random_state=5, progress=False)
    noisy = SyntheticBenchmark(space, offset=50.0, noise_std=1.0, random_state=0)
    with pytest.raises(ValueError, match="Cannot resume .* its 'evaluator' column"):
        build_predictor_dataset(space, noisy, 4, path, progress=False)


def test_metadata_is_stored_as_json(space, evaluator, tmp_path):
    class WithMeta(Crashing):
        metadata = {"evaluator": "x", "epochs": 3}

    table = build_predictor_dataset(space, WithMeta(evaluator, 0), 3, tmp_path / "t.parquet",
                                    progress=False)
    assert json.loads(table["evaluator"][0]) == {"epochs": 3, "evaluator": "x"}


def test_bad_inputs(space, evaluator, tmp_path):
    with pytest.raises(ValueError, match=r"'path' parameter of build_predictor_dataset must end "
                                         r"in .parquet or .csv"):
        build_predictor_dataset(space, evaluator, 3, tmp_path / "t.json")
    with pytest.raises(ValueError, match="evaluates the 'macro' space, but "
                                         "'space' is 'nasbench201'"):
        build_predictor_dataset(get_search_space("nasbench201"), evaluator, 3,
                                tmp_path / "t.csv")
    with pytest.raises(TypeError, match=r"must have an evaluate\(archs\) method"):
        build_predictor_dataset(space, object(), 3, tmp_path / "t.csv")
    with pytest.raises(ValueError, match="'n' parameter of build_predictor_dataset"):
        build_predictor_dataset(space, evaluator, 0, tmp_path / "t.csv")


def test_parquet_byte_flips_are_refused(space, evaluator, tmp_path):
    path = tmp_path / "t.parquet"
    table = build_predictor_dataset(space, evaluator, 40, path, progress=False)
    raw = path.read_bytes()
    rng = np.random.default_rng(0)
    refused = 0
    for trial in range(60):
        flipped = bytearray(raw)
        at = int(rng.integers(4, len(raw) - 8))  # inside the file, not its magic bytes
        flipped[at] ^= 1 << int(rng.integers(8))
        bad = tmp_path / f"flip{trial}.parquet"
        bad.write_bytes(bytes(flipped))
        try:
            frame = read_table(bad)
        except ValueError as exc:
            assert f"flip{trial}.parquet" in str(exc) and "\n" not in str(exc)
            refused += 1
        else:  # accepted only if the flip did not change the content (e.g. unused padding)
            pd.testing.assert_frame_equal(frame, table)
    assert refused >= 20  # most flips hit values or structure; the rest hit unused bytes


def _resume_error(space, evaluator, path, frame, match, n=12):
    frame.to_parquet(path, index=False)
    with pytest.raises(ValueError, match=match):
        build_predictor_dataset(space, evaluator, n, path, progress=False)


def test_resume_validates_the_rows(space, evaluator, tmp_path):
    path = tmp_path / "t.parquet"
    good = read_table(path) if build_predictor_dataset(space, evaluator, 12, path,
                                                       progress=False) is not None else None
    _resume_error(space, evaluator, path, good.drop(columns="arch"),
                  r"Cannot resume '.*t.parquet': it has no 'arch' column")
    _resume_error(space, evaluator, path, pd.concat([good, good.iloc[[3]]], ignore_index=True),
                  r"Cannot resume '.*t.parquet': row 12 repeats the architecture")
    bad = good.copy()
    bad.loc[2, "arch"] = "not-an-arch"
    _resume_error(space, evaluator, path, bad, r"row 2 holds an invalid architecture "
                                               r"'not-an-arch'")
    for value in (np.nan, np.inf, -1.0):
        bad = good.copy()
        bad.loc[5, "accuracy"] = value
        _resume_error(space, evaluator, path, bad, r"row 5 holds the accuracy .*expected a "
                                                   r"finite number >= 0")
    bad = good.copy()
    layer = space.layer_names[0]
    bad.loc[1, layer] = (bad.loc[1, layer] + 1) % space.num_options[0]
    _resume_error(space, evaluator, path, bad, r"row 1 has layer columns .* that contradict")
    _resume_error(space, evaluator, path, good, r"not among the n=20 sampled .*another 'n'",
                  n=20)
    good.to_parquet(path, index=False)  # the valid file still resumes, to the same rows
    again = build_predictor_dataset(space, evaluator, 12, path, progress=False)
    assert len(again) == len(read_table(path)) == 12


def test_csv_tables_carry_a_checksum(space, evaluator, tmp_path):
    path = tmp_path / "t.csv"
    table = build_predictor_dataset(space, evaluator, 30, path, progress=False)
    text = path.read_text()
    header, body = text.split("\n", 1)
    assert header.startswith("# archgraph-predictor-dataset ")
    assert json.loads(header.split(" ", 2)[2])["sha256"]
    pd.testing.assert_frame_equal(pd.read_csv(path, skiprows=1, dtype={"arch": str}), table)
    lines = text.splitlines(keepends=True)
    cut = tmp_path / "cut.csv"
    cut.write_text("".join(lines[:len(lines) // 2]))  # cut at a row boundary: still valid CSV
    altered = tmp_path / "altered.csv"
    altered.write_text(text.replace(f",{table['accuracy'][3]},", ",99.0,", 1))
    for bad in (cut, altered):
        with pytest.raises(ValueError, match=rf"Predictor-dataset table '.*{bad.name}' is "
                                             r"corrupted: its content does not match"):
            read_table(bad)
        with pytest.raises(ValueError, match=rf"'.*{bad.name}' is corrupted"):
            build_predictor_dataset(space, evaluator, 30, bad, progress=False)
    no_sum = tmp_path / "nosum.csv"
    no_sum.write_text(header.replace('"sha256"', '"other"') + "\n" + body)
    with pytest.raises(ValueError, match="'.*nosum.csv' carries no sha256 checksum"):
        read_table(no_sum)
    plain = tmp_path / "plain.csv"  # made by hand, without the header: read as it is
    plain.write_text(body)
    pd.testing.assert_frame_equal(read_table(plain), table)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_unreadable_tables_give_one_line_naming_the_file(space, evaluator, tmp_path, suffix):
    import pickle

    path = tmp_path / f"t{suffix}"
    build_predictor_dataset(space, evaluator, 5, path, progress=False)
    broken = {
        "pickle": pickle.dumps({"arch": ["0" * 8]}),  # a pickle saved under the table's name
        "empty": b"",
        "binary": bytes(range(256)) * 4,
        "truncated": path.read_bytes()[: len(path.read_bytes()) // 3],
    }
    if suffix == ".csv":  # the JSON of the header line is damaged
        broken["json"] = path.read_bytes().replace(b'{"format"', b'{format"', 1)
    for name, data in broken.items():
        bad = tmp_path / f"{name}{suffix}"
        bad.write_bytes(data)
        with pytest.raises(ValueError) as info:
            read_table(bad)
        msg = str(info.value)
        assert str(bad) in msg and "\n" not in msg, (name, msg)
        with pytest.raises(ValueError, match=f"{name}{suffix}"):  # and on resume
            build_predictor_dataset(space, evaluator, 5, bad, progress=False)


def test_resume_refuses_a_missing_layer_column(space, evaluator, tmp_path):
    path = tmp_path / "t.parquet"
    good = build_predictor_dataset(space, evaluator, 6, path, progress=False)
    _resume_error(space, evaluator, path, good.drop(columns=space.layer_names[2]),
                  rf"Cannot resume '.*t.parquet': it has no layer column "
                  rf"'{space.layer_names[2]}'", n=6)


def test_flips_in_the_parquet_footer_are_refused_in_one_line(space, tmp_path):
    # found by bench/bench_soak.py: a flipped bit in the schema of the footer gave pyarrow's
    # ArrowNotImplementedError ("Integers with less than 8 bits not implemented"), a traceback
    from archgraph.evaluators import synthetic_evaluator

    path = tmp_path / "t.parquet"
    table = build_predictor_dataset(space, synthetic_evaluator(space), 30, path, progress=False)
    raw = path.read_bytes()
    bad = tmp_path / "flip.parquet"
    refused = 0
    for at in range(len(raw) - 1140, len(raw) - 1080):  # the column schemas of the footer
        for bit in range(8):
            flipped = bytearray(raw)
            flipped[at] ^= 1 << bit
            bad.write_bytes(bytes(flipped))
            try:
                frame = read_table(bad)
            except ValueError as exc:
                assert str(bad) in str(exc) and "\n" not in str(exc), str(exc)
                refused += 1
            else:
                pd.testing.assert_frame_equal(frame, table)
    assert refused > 100


def test_csv_with_a_damaged_header_line_is_refused(space, evaluator, tmp_path):
    # found by bench/bench_soak.py: a bit flipped in the header's prefix made the file a
    # header-less CSV whose columns were the header's words, accepted with other content
    path = tmp_path / "t.csv"
    build_predictor_dataset(space, evaluator, 5, path, progress=False)
    text = path.read_text()
    bad = tmp_path / "bad.csv"
    bad.write_text(text.replace("predictor-dataset", "predictoz-dataset", 1))
    with pytest.raises(ValueError, match=r"'.*bad.csv' has neither the archgraph header line "
                                         r".* nor an 'arch' column"):
        read_table(bad)


def test_damaged_utf8_in_a_parquet_string_is_refused_in_one_line(space, tmp_path):
    # found by bench/bench_soak.py: a flipped high bit in a string value (invalid UTF-8) got
    # past reading (Arrow-backed strings) and failed in the checksum with an ArrowException
    import pyarrow as pa
    import pyarrow.parquet as pq

    from archgraph.evaluators import synthetic_evaluator

    path = tmp_path / "t.parquet"
    build_predictor_dataset(space, synthetic_evaluator(space), 8, path, progress=False)
    table = pq.read_table(path)
    values = [v.as_py().encode() for v in table.column("evaluator").combine_chunks()]
    values[0] = values[0].replace(b"pairwise", b"pair\xf7ise")  # 'w' with its high bit set
    damaged = pa.array(values, type=pa.binary()).view(pa.string())  # not validated as UTF-8
    at = table.schema.get_field_index("evaluator")
    bad = tmp_path / "utf8.parquet"
    pq.write_table(table.set_column(at, pa.field("evaluator", pa.string()), damaged)
                   .replace_schema_metadata(table.schema.metadata), bad)
    with pytest.raises(ValueError) as info:
        read_table(bad)
    assert str(bad) in str(info.value) and "\n" not in str(info.value), str(info.value)
