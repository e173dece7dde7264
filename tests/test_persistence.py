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


# -- files edited with the checksum recomputed ----------------------------------------------
def _forge(source, target, edit=None, *, head: bytes | None = None):
    """Write ``target``: ``source`` with its JSON header edited by ``edit`` (or replaced by
    the bytes ``head``) and a valid checksum, as a careful attacker or a buggy tool would."""
    import hashlib
    import json

    from tabgen.persistence import _PREFIX, read_header

    header, data = read_header(source)
    if head is None:
        edit(header)
        head = json.dumps(header).encode()
    digest = hashlib.sha256(head + data).digest()
    target.write_bytes(
        _PREFIX.pack(MAGIC, FORMAT_VERSION, len(head), len(data), digest) + head + data
    )
    return target


@pytest.fixture(scope="module")
def vae_file(tmp_path_factory):
    df = tabgen.datasets.load_adult().head(200)
    path = tmp_path_factory.mktemp("vae") / "v.tabgen"
    tabgen.VAESynthesizer(epochs=1, hidden=16, latent_dim=4, n_layers=1, random_state=0).fit(
        df
    ).save(path)
    return path


def _first_array(header):
    return next(iter(header["arrays"].values()))


@pytest.mark.parametrize(
    ("which", "edit", "message"),
    [
        ("vae", lambda h: _first_array(h).update(shape=[1, 1]), "size mismatch"),
        ("copula", lambda h: h["arrays"]["correlation"].update(shape=[2, 2]), "correlation"),
        ("copula", lambda h: h["fitted"]["columns"].pop(), "disagree"),
        ("copula", lambda h: h.update({"class": "VAESynthesizer"}), "invalid model"),
        ("vae", lambda h: h.update({"class": "GaussianCopulaSynthesizer"}), "invalid model"),
        ("copula", lambda h: h["params"].update(max_knots=2), "max_knots must be"),
        ("vae", lambda h: h["params"].update(epochs=-3), "epochs must be a positive"),
        ("copula", lambda h: h["params"].update(random_state="x"), "invalid parameters"),
        ("copula", lambda h: _first_array(h).update(shape=[-1]), "invalid shape"),
        ("copula", lambda h: _first_array(h).update(offset=10**12), "outside the file"),
        ("copula", lambda h: h.update(tabgen_version="999.0.0"), "newer than this tabgen"),
        ("copula", lambda h: h.pop("tabgen_version"), "no valid tabgen version"),
        ("copula", lambda h: h.pop("state"), "missing entry 'state'"),
    ],
)
def test_edited_files_with_a_valid_checksum_are_refused_in_one_line(
    model_file, vae_file, tmp_path, which, edit, message
):
    source = vae_file if which == "vae" else model_file
    forged = _forge(source, tmp_path / "forged.tabgen", edit)
    with pytest.raises(ModelFileError, match=message) as exc:
        tabgen.load(forged)
    assert len(str(exc.value).splitlines()) == 1 and str(forged) in str(exc.value)


def test_n_steps_1e9_fails_at_load_not_at_sample(tmp_path):
    df = tabgen.datasets.load_adult().head(200)
    path = tmp_path / "d.tabgen"
    tabgen.DiffusionSynthesizer(epochs=1, hidden=16, n_layers=1, n_steps=3, random_state=0).fit(
        df
    ).save(path)
    forged = _forge(path, tmp_path / "f.tabgen", lambda h: h["params"].update(n_steps=1e9))
    with pytest.raises(ModelFileError, match="n_steps must be a positive integer"):
        tabgen.load(forged)


def test_a_deeply_nested_or_huge_header_is_refused(model_file, tmp_path, monkeypatch):
    deep = b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    forged = _forge(model_file, tmp_path / "deep.tabgen", head=deep)
    with pytest.raises(ModelFileError, match="nested 100001 levels deep"):
        tabgen.load(forged)
    # brackets inside strings are text, not nesting
    odd = {"[" * 100 + '\\"': "{" * 100}
    strings = _forge(model_file, tmp_path / "s.tabgen", lambda h: h["params"].update(schema=odd))
    assert tabgen.load(strings).schema == odd
    monkeypatch.setattr(tabgen.persistence, "MAX_HEADER_BYTES", 100)
    with pytest.raises(ModelFileError, match="over the limit of 100 bytes"):
        tabgen.load(model_file)


def test_an_older_tabgen_version_loads(model_file, tmp_path, mixed_frame):
    older = _forge(model_file, tmp_path / "old.tabgen", lambda h: h.update(tabgen_version="0.0.1"))
    model = tabgen.load(older)
    again = tabgen.GaussianCopulaSynthesizer(random_state=0).fit(mixed_frame)
    pd.testing.assert_frame_equal(
        model.sample(10, random_state=0), again.sample(10, random_state=0)
    )


def test_a_newer_format_version_asks_for_an_upgrade(model_file):
    blob = bytearray(model_file.read_bytes())
    blob[8:12] = struct.pack("<I", FORMAT_VERSION + 1)
    model_file.write_bytes(bytes(blob))
    with pytest.raises(ModelFileError, match="newer tabgen: upgrade"):
        tabgen.load(model_file)


@pytest.mark.parametrize("command", ["info", "sample"])
def test_the_cli_reports_a_bad_model_file_in_one_line(model_file, tmp_path, capsys, command):
    from tabgen.cli import main

    forged = _forge(
        model_file, tmp_path / "f.tabgen", lambda h: h["arrays"]["correlation"].update(shape=[1])
    )
    argv = [command, str(forged)]
    if command == "sample":
        argv += ["-n", "5", "-o", str(tmp_path / "o.csv")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("tabgen: error:") and "invalid model description" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o.csv").exists()


def test_a_folder_is_not_a_model_file(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a folder"):
        tabgen.load(tmp_path)
