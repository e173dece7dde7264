"""The shared trainer (tabgen.nn.trainer) and the device policy (tabgen.nn.device)."""

from __future__ import annotations

import pytest
import torch

from tabgen.nn import EarlyStopping, ShuffledBatches, Trainer
from tabgen.nn.device import resolve_device
from tabgen.nn.trainer import cosine, warmup_linear


def _regression(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 3, generator=g)
    y = X @ torch.tensor([1.0, -2.0, 0.5]) + 0.1 * torch.randn(n, generator=g)
    return X, y


def _fit(epochs=5, seed=0, average_net=False, **options):
    X, y = _regression()
    net = torch.nn.Linear(3, 1)
    with torch.no_grad():
        net.weight.zero_()
        net.bias.zero_()
    if average_net:
        options["average"] = net
    opt = torch.optim.SGD(net.parameters(), lr=0.1)

    def step(index, trainer):
        loss = ((net(X[index]).squeeze(1) - y[index]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    batches = ShuffledBatches(len(X), 16, torch.Generator().manual_seed(seed))
    trainer = Trainer(step, batches, epochs=epochs, optimizers={"net": opt}, **options)
    return trainer, trainer.run(), net


def test_batches_cover_the_rows_once_per_epoch_and_follow_the_seed():
    a = [b.tolist() for b in ShuffledBatches(10, 5, torch.Generator().manual_seed(1))]
    b = [b.tolist() for b in ShuffledBatches(10, 5, torch.Generator().manual_seed(1))]
    assert a == b and sorted(i for batch in a for i in batch) == list(range(10))
    assert len(ShuffledBatches(10, 50, torch.Generator())) == 1  # capped at the rows


def test_history_progress_and_schedule():
    seen, lrs = [], []
    trainer, log, _ = _fit(progress=seen.append, lr_at=lambda s, t: lrs.append(s) or 0.05)
    assert log.n_epochs == 5 and log.n_steps == 20 and not log.stopped_early
    assert list(log.history) == ["loss"] and len(log.losses) == 5
    assert log.losses[-1] < log.losses[0]  # it learns
    assert [p.epoch for p in seen] == [1, 2, 3, 4, 5] and seen[-1].step == 20
    assert seen[0].total == 5 and seen[0].loss["loss"] == log.losses[0]
    assert lrs == list(range(20)) and trainer.total_steps == 20
    assert trainer.optimizers["net"].param_groups[0]["lr"] == 0.05


def test_weight_average_follows_the_named_network():
    trainer, _, net = _fit(average_net=True, ema_decay=0.5, average_after="other")
    assert trainer.average.step == 0  # no step reported a loss for "other"
    assert not torch.equal(trainer.average.module.weight, net.weight)
    trainer, _, net = _fit(epochs=1, average_net=True, ema_decay=0.0)
    assert trainer.average.step == 4
    torch.testing.assert_close(trainer.average.module.weight, net.weight)


def test_early_stopping_restores_the_best_weights():
    X, y = _regression(seed=1)  # held-out rows
    holder = {}

    def score():
        with torch.no_grad():
            return float(((holder["net"](X).squeeze(1) - y) ** 2).mean())

    net = torch.nn.Linear(3, 1)
    holder["net"] = net
    stop = EarlyStopping(score, net, patience=1, min_delta=1e9)  # never "improves"
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    log = Trainer(
        lambda idx, t: 0.0, ShuffledBatches(8, 4, torch.Generator()), epochs=10,
        optimizers={"net": opt}, stop=stop,
    ).run()  # fmt: skip
    assert log.stopped_early and log.n_epochs == 1
    assert stop.best_state is None  # nothing to restore: the weights stay
    stop = EarlyStopping(score, net, patience=2, min_delta=-1.0)  # always "improves"
    assert stop(log) is False and stop.best_state is not None
    with torch.no_grad():
        net.weight.add_(1.0)
    stop.restore()
    torch.testing.assert_close(net.weight, stop.best_state["weight"])


def test_schedules():
    assert warmup_linear(1.0, 100)(0, 10) == pytest.approx(1.0)  # warm-up <= a tenth
    assert cosine(2.0)(5, 10) == pytest.approx(1.0)


def test_device_policy_values():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device(torch.device("cpu")).type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    for bad in ("tpu", 3, None, "cuda:x"):
        with pytest.raises(ValueError, match="device must be"):
            resolve_device(bad)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda:1")
        assert resolve_device("cuda", strict=False).type == "cpu"  # loading a GPU model
    if not torch.backends.mps.is_available():
        with pytest.raises(ValueError, match="MPS is not available"):
            resolve_device("mps")
