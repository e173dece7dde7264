"""Named settings of ``DiffusionSynthesizer.from_preset`` (``"cpu"``, ``"gpu"``)."""

from __future__ import annotations

#: Named settings for :meth:`DiffusionSynthesizer.from_preset`.
PRESETS: dict[str, dict] = {
    # the constructor defaults: sized for a small CPU (timings in benchmarks/RESULTS.md)
    "cpu": {},
    # longer and larger, for a GPU: a wider network, bigger batches, more epochs and steps
    # (a starting point, not tuned: no GPU timing has been measured yet)
    "gpu": {
        "epochs": 2000,
        "batch_size": 4096,
        "lr": 1e-3,
        "hidden": 1024,
        "n_layers": 4,
        "n_steps": 50,
        "device": "auto",
    },
}
