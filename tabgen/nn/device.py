"""The device policy of every neural model, resolved in ``fit`` (never at import or in
``__init__``).

``device`` takes the same values for every model:

* ``"auto"``: CUDA when available, else the CPU (never fails);
* ``"cpu"``;
* ``"cuda"`` or ``"cuda:N"``: a CUDA device; fitting raises ``ValueError`` when CUDA (or
  device ``N``) is absent;
* ``"mps"``: Apple's Metal backend, only when asked for (``"auto"`` does not pick it);
  fitting raises ``ValueError`` when it is absent;
* a ``torch.device`` of one of these kinds.

A fitted model remembers the parameter, not the device. Loading (or sampling from) a saved
model resolves the parameter again with ``strict=False``: a device that this machine lacks
becomes the CPU, so that a model fitted on a GPU loads and samples on a CPU-only machine.
"""

from __future__ import annotations

import torch

#: Device kinds a model accepts.
KINDS = ("cpu", "cuda", "mps")


def _available(device: torch.device) -> bool:
    if device.type == "cpu":
        return True
    if device.type == "cuda":
        if not torch.cuda.is_available():
            return False
        return device.index is None or device.index < torch.cuda.device_count()
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def resolve_device(device, *, strict: bool = True) -> torch.device:
    """The ``torch.device`` that ``device`` means on this machine.

    Parameters
    ----------
    device : str or torch.device
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"mps"`` or a ``torch.device``.
    strict : bool, default=True
        Raise ``ValueError`` when the device asked for is absent (fitting); when ``False``
        fall back to the CPU instead (loading a model fitted elsewhere).

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        For an unknown value, and (``strict``) for an absent device.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    >>> resolve_device("auto").type in ("cpu", "cuda")
    True
    >>> resolve_device("tpu")
    Traceback (most recent call last):
    ...
    ValueError: device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got 'tpu'
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = None
    if isinstance(device, (str, torch.device)):
        try:
            resolved = torch.device(device)
        except (RuntimeError, TypeError, ValueError):
            pass
    if resolved is None or resolved.type not in KINDS:
        raise ValueError(
            f"device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got {device!r}"
        ) from None
    if _available(resolved):
        return resolved
    if strict:
        what = {"cuda": "CUDA", "mps": "MPS"}[resolved.type]
        if resolved.type == "cuda" and torch.cuda.is_available():
            what = f"CUDA device {resolved.index} (of {torch.cuda.device_count()})"
        raise ValueError(
            f"device={device!r} but {what} is not available on this machine; use 'auto' "
            "(CUDA when present, else the CPU) or 'cpu'"
        )
    return torch.device("cpu")


def check_device(device) -> None:
    """Raise ``ValueError`` unless ``device`` is a value :func:`resolve_device` accepts (the
    check of ``__init__``-time values in ``fit``; availability is checked by
    ``resolve_device``).

    Examples
    --------
    >>> check_device("cuda:1")
    >>> check_device(3)
    Traceback (most recent call last):
    ...
    ValueError: device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got 3
    """
    resolve_device(device, strict=False)


def low_precision_fast(device: torch.device) -> bool:
    """Whether bfloat16 products are native on ``device`` (a CPU with AVX-512 BF16 or AMX,
    a CUDA device that supports bfloat16); elsewhere they would be emulated, slower than
    float32."""
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    if device.type != "cpu":
        return False
    cpu = torch.cpu
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(cpu, name, lambda: False)() for name in checks)
