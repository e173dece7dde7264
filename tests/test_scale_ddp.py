"""Data-parallel VAE training under torchrun (2 processes, gloo) equals one process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

import tabgen
from tabgen.nn.distributed import DataParallel, data_parallel

PARAMS = {"hidden": 32, "latent_dim": 8, "n_layers": 1, "ema_decay": 0.9}


def _gloo_available() -> bool:
    import torch.distributed as dist

    return dist.is_available() and dist.is_gloo_available()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _table(n=240):
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "y": rng.integers(0, 9, n),
            "c": rng.choice(list("abcd"), n),
        }
    )
    df.loc[rng.random(n) < 0.1, "x"] = np.nan
    return df


def test_local_rows_split_the_batch():
    ranks = [DataParallel(rank=r, world_size=3).local_rows(12) for r in range(3)]
    assert [(s.start, s.stop) for s in ranks] == [(0, 4), (4, 8), (8, 12)]
    with pytest.raises(ValueError, match="multiple of the 3"):
        DataParallel(rank=0, world_size=3).check_batch(10)
    assert data_parallel() is None  # no process group here


#: model name -> (small parameters, the network that samples)
MODELS = {
    "vae": (PARAMS, "decoder_"),
    # float32: bfloat16 products of 30- and 60-row batches round differently
    "diffusion": (
        {"hidden": 16, "n_layers": 1, "n_steps": 3, "precision": "float32"},
        "denoiser_",
    ),
    "gan": (
        {"embedding_dim": 16, "generator_dim": [32], "critic_dim": [32], "selection": None},
        "generator_",
    ),
}


@pytest.mark.skipif(not _gloo_available(), reason="torch.distributed with gloo unavailable")
@pytest.mark.parametrize("name", sorted(MODELS))
def test_torchrun_two_processes_match_single_process(tmp_path, name):
    params, network = MODELS[name]
    cls = tabgen.get_synthesizer(name)
    df = _table()
    data = tmp_path / "train.csv"
    df.to_csv(data, index=False)
    single = cls(epochs=3, batch_size=60, random_state=0, **params).fit(df)
    out = tmp_path / "ddp.tabgen"
    args = [a for k, v in params.items() for a in ("--param", f"{k}={json.dumps(v)}")]
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--nnodes=1",
        f"--master_port={_free_port()}", "-m", "tabgen.scale.train_ddp", str(data),
        "-m", name, "-o", str(out), "--epochs", "3", "--batch-size", "60", "--seed", "0",
        *args,
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "with 2 processes" in proc.stdout
    ddp = tabgen.load(out)
    # 4 steps per epoch, each on 2 x 30 rows: the same loss curve and the same weights
    assert len(ddp.loss_history_) == 3
    np.testing.assert_allclose(ddp.loss_history_, single.loss_history_, rtol=1e-5)
    a, b = getattr(single, network).state_dict(), getattr(ddp, network).state_dict()
    assert a.keys() == b.keys()
    for k in a:
        if name == "gan" and k.endswith(("fc.bias", "bn.running_mean")):
            # a bias before batch norm gets a zero gradient up to rounding, which Adam
            # scales into full steps: it drifts, and batch norm cancels it (checked below)
            continue
        torch.testing.assert_close(b[k], a[k], rtol=1e-4, atol=1e-5)
    if name == "gan":  # the same function, drifting biases included
        x = torch.randn(16, a["body.0.fc.weight"].shape[1], generator=torch.Generator())
        with torch.no_grad():
            torch.testing.assert_close(
                ddp.generator_(x), single.generator_(x), rtol=1e-4, atol=1e-5
            )
    # a different seed gives a different curve (the comparison above can fail)
    other = cls(epochs=3, batch_size=60, random_state=1, **params).fit(df)
    assert not np.allclose(other.loss_history_, ddp.loss_history_, rtol=1e-5)


@pytest.mark.skipif(not _gloo_available(), reason="torch.distributed with gloo unavailable")
def test_in_group_errors(tmp_path):
    """Inside a (single-rank) group nothing changes; DP mode and data parallelism clash."""
    import torch.distributed as dist

    from tabgen.nn import distributed

    df = _table(100)
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{_free_port()}", rank=0, world_size=1
    )
    try:
        assert data_parallel() is None  # a group of one trains as a single process
        fake = DataParallel(rank=0, world_size=2)
        orig = distributed.data_parallel
        distributed.data_parallel = lambda: fake  # what the trainer asks
        try:
            with pytest.raises(ValueError, match="multiple of the 2"):
                tabgen.VAESynthesizer(epochs=1, batch_size=51, **PARAMS).fit(df)
            with pytest.raises(ValueError, match="max_time"):
                tabgen.VAESynthesizer(epochs=1, batch_size=50, max_time=5, **PARAMS).fit(df)
        finally:
            distributed.data_parallel = orig
    finally:
        dist.destroy_process_group()


def test_dp_mode_refuses_data_parallel(monkeypatch):
    from tabgen.privacy import _fit

    monkeypatch.setattr(_fit, "data_parallel", lambda: DataParallel(0, 2))
    with pytest.raises(ValueError, match="cannot run data-parallel"):
        tabgen.VAESynthesizer(epsilon=1.0, epochs=1, **PARAMS).fit(_table(100))
