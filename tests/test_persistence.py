"""Model files: JSON + raw arrays; hostile or damaged files are refused and run nothing."""

from __future__ import annotations

import os
import pickle
import struct

import numpy as np
import pandas as pd
import pytest

import tabgen
from tabgen.persistence import FORMAT_VERSION, MAGIC, ModelFileError


@pytest.fixture
def model_file(tmp_path, mixed_frame):
    path = tmp_path / "m.tabgen"
    tabgen.GaussianCopulaSynthesizer(random_state=0).fit(mixed_frame).save(path)
    return path


class _Exploit:
    """Unpickling this runs a shell command that creates a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_real_malicious_pickle_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.tabgen"
    evil.write_bytes(pickle.dumps(_Exploit(marker)))
    # sanity: the payload really is live when unpickled by something unsafe
    probe = tmp_path / "probe"
    pickle.loads(pickle.dumps(_Exploit(probe)))
    assert probe.exists()
    with pytest.raises(ModelFileError, match="not a tabgen model file"):
        tabgen.load(evil)
    assert not marker.exists()


def test_a_torch_checkpoint_is_refused(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "ckpt.tabgen"
    torch.save({"w": torch.zeros(3)}, path)
    with pytest.raises(ModelFileError, match="not a tabgen model file"):
        tabgen.load(path)


def test_another_format_version_is_refused(model_file):
    blob = bytearray(model_file.read_bytes())
    blob[8:12] = struct.pack("<I", FORMAT_VERSION + 1)
    model_file.write_bytes(bytes(blob))
    with pytest.raises(ModelFileError, match=f"format {FORMAT_VERSION + 1}"):
        tabgen.load(model_file)


def test_truncated_and_tampered_files_are_refused(model_file, tmp_path):
    blob = model_file.read_bytes()
    cut = tmp_path / "cut.tabgen"
    cut.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ModelFileError, match="truncated"):
        tabgen.load(cut)
    flipped = bytearray(blob)
    flipped[-5] ^= 0xFF
    bad = tmp_path / "bad.tabgen"
    bad.write_bytes(bytes(flipped))
    with pytest.raises(ModelFileError, match="checksum"):
        tabgen.load(bad)


def test_unregistered_class_in_a_well_formed_file_is_refused(model_file, tmp_path):
    import hashlib
    import json

    from tabgen.persistence import _PREFIX, read_header

    header, data = read_header(model_file)
    header["class"] = "system"
    head = json.dumps(header).encode()
    digest = hashlib.sha256(head + data).digest()
    forged = tmp_path / "forged.tabgen"
    forged.write_bytes(
        _PREFIX.pack(MAGIC, FORMAT_VERSION, len(head), len(data), digest) + head + data
    )
    with pytest.raises(ModelFileError, match="not a registered tabgen synthesizer"):
        tabgen.load(forged)


def test_file_holds_no_pickle_and_loads_identically(model_file, mixed_frame):
    blob = model_file.read_bytes()
    assert blob.startswith(MAGIC)
    assert b"\x80\x04\x95" not in blob and b"\x80\x05\x95" not in blob  # pickle protocol 4/5
    model = tabgen.load(model_file)
    again = tabgen.GaussianCopulaSynthesizer(random_state=0).fit(mixed_frame)
    pd.testing.assert_frame_equal(
        model.sample(20, random_state=1), again.sample(20, random_state=1)
    )
    assert np.array_equal(model.correlation_, again.correlation_)


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="does not exist"):
        tabgen.load("/nonexistent/model.tabgen")


def test_tuple_parameters_come_back_as_tuples(tmp_path):
    df = pd.DataFrame({"a": np.random.default_rng(0).normal(size=200), "b": ["x", "y"] * 100})
    model = tabgen.GANSynthesizer(epochs=1, batch_size=100, random_state=0).fit(df)
    assert isinstance(model.generator_dim, tuple)
    model.save(tmp_path / "g.tabgen")
    loaded = tabgen.load(tmp_path / "g.tabgen")
    assert loaded.get_params() == model.get_params()
