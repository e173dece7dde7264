"""The generator: residual blocks, then output heads driven by the layout.

Each residual block is ``Linear -> BatchNorm -> ReLU`` whose output is concatenated with its
input (CTGAN's design: later layers see every earlier representation). The heads turn the
final linear layer's output into data: ``tanh`` for continuous slots, a Gumbel-softmax for
every one-hot block (categories, mixture modes, missingness), with noise drawn from an
explicit ``torch.Generator``.
"""

from __future__ import annotations

import torch
from torch import nn

from tabgen.synthesizers.gan.embedding import WideEmbedding
from tabgen.synthesizers.gan.layout import GanLayout


class Residual(nn.Module):
    """``concat(relu(bn(linear(x))), x)``."""

    def __init__(self, in_dim: int, out_dim: int):
        super().__init__()
        self.fc = nn.Linear(in_dim, out_dim)
        self.bn = nn.BatchNorm1d(out_dim)

    def reset_extra_parameters(self) -> None:
        self.bn.reset_parameters()  # ones/zeros and fresh running statistics; no randomness

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([torch.relu(self.bn(self.fc(x))), x], dim=1)


class Generator(nn.Module):
    """Noise and conditional vector in, raw head inputs (``layout.width`` slots) out.

    Parameters
    ----------
    in_dim : int
        Noise width plus conditional-vector width.
    wide : list of (int, int)
        Wide one-hot blocks of the conditional vector (inside the input) to embed.
    hidden : sequence of int
        Output width of each residual block.
    out_dim : int
        Width of the expanded layout.
    """

    def __init__(self, in_dim: int, wide, hidden, out_dim: int):
        super().__init__()
        self.inp = WideEmbedding(in_dim, wide)
        blocks, dim = [], self.inp.out_dim
        for h in hidden:
            blocks.append(Residual(dim, h))
            dim += h
        self.body = nn.Sequential(*blocks)
        self.out = nn.Linear(dim, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(self.inp(x)))

    @torch.no_grad()
    def inference_weights(self) -> list:
        """Eval-mode weights for :meth:`infer`: each layer's weight split by the input
        pieces it reads (so no concatenation is needed), with the batch norm folded in."""
        layers = []
        for block in self.body:
            bn = block.bn
            scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            weight = block.fc.weight * scale.reshape(-1, 1)
            bias = (block.fc.bias - bn.running_mean) * scale + bn.bias
            layers.append((self._split(weight, len(layers)), bias))
        layers.append((self._split(self.out.weight, len(layers)), self.out.bias.clone()))
        return layers

    def _split(self, weight: torch.Tensor, n_before: int) -> list:
        """Transposed column blocks of ``weight`` for the pieces ``[y_k, ..., y_1, h0]``
        that a layer after ``n_before`` residual blocks reads."""
        widths = [blk.fc.out_features for blk in self.body][:n_before][::-1]
        widths.append(self.inp.out_dim)
        return [w.t().contiguous() for w in torch.split(weight, widths, dim=1)]

    @torch.no_grad()
    def infer(self, x: torch.Tensor, weights: list) -> torch.Tensor:
        """Eval-mode ``forward`` (batch norm with its running statistics) without copying
        the residual concatenations; ``weights`` from :meth:`inference_weights`."""
        pieces = [self.inp(x)]  # newest first: the order in which a layer reads them
        for i, (parts, bias) in enumerate(weights):
            h = torch.addmm(bias, pieces[0], parts[0])
            for piece, w in zip(pieces[1:], parts[1:], strict=True):
                h.addmm_(piece, w)
            if i == len(weights) - 1:
                return h
            pieces.insert(0, h.relu_())
        raise AssertionError("unreachable")  # weights always holds the output layer

    @torch.no_grad()
    def low_precision_weights(self, weights: list, continuous) -> tuple:
        """bfloat16 copies of :meth:`inference_weights` for :meth:`infer_low`, plus the
        output layer's columns of the ``continuous`` (``tanh``) slots."""
        layers = [([w.to(LOW) for w in parts], bias.to(LOW)) for parts, bias in weights]
        parts, bias = layers[-1]
        cols = torch.as_tensor(list(continuous), dtype=torch.long, device=bias.device)
        cont = ([w.index_select(1, cols).contiguous() for w in parts], weights[-1][1][cols])
        return layers, cols, cont

    @torch.no_grad()
    def infer_low(self, x: torch.Tensor, low: tuple) -> torch.Tensor:
        """:meth:`infer` with the matrix products in bfloat16 (float32 accumulation inside
        each product): about five times fewer CPU cycles where the processor multiplies
        bfloat16 natively. ``low`` from :meth:`low_precision_weights`. Returns float32.

        The ``tanh`` slots get a second, compensated pass so that their values keep about
        17 bits (a bfloat16 output alone has 8, and would put generated numbers on a grid):
        ``y = bf16(p W)``, then the residual ``bf16(p W - y)``, summed in float32 over the
        pieces ``p``.
        """
        layers, cols, (cont_parts, cont_bias) = low
        pieces = [self.inp(x).to(LOW)]  # newest first, as in infer
        for parts, bias in layers[:-1]:
            h = torch.addmm(bias, pieces[0], parts[0])
            for piece, w in zip(pieces[1:], parts[1:], strict=True):
                h.addmm_(piece, w)
            pieces.insert(0, h.relu_())
        parts, bias = layers[-1]
        raw = torch.addmm(bias, pieces[0], parts[0])
        for piece, w in zip(pieces[1:], parts[1:], strict=True):
            raw.addmm_(piece, w)
        raw = raw.float()
        if len(cols):
            head = cont_bias.float().expand(len(raw), -1).clone()
            _compensated(head, pieces, cont_parts)
            raw[:, cols] = head
        return raw

    @torch.no_grad()
    def lookup_weights(self, weights: list, continuous, noise_dim: int, columns=None) -> tuple:
        """Weights for :meth:`infer_lookup`: :meth:`low_precision_weights` with the input
        rows of every layer split in two. The noise rows stay a bfloat16 matrix; the rows of
        the conditional vector become a float32 table of each slot's contribution to the
        layer (through the wide-block embeddings too: the input layer is linear).

        ``columns``: the output layer computes only these slots, in this order (the raw
        output of :meth:`infer_lookup_parts` then has ``len(columns)`` columns)."""
        in_dim = len(self.inp._narrow) + sum(b - a for a, b in self.inp.wide)
        width = in_dim - noise_dim
        basis = torch.zeros(width, in_dim, device=weights[-1][1].device)
        basis[:, noise_dim:] = torch.eye(width, device=basis.device)
        embedded = self.inp(basis)  # each slot's input to the layers (noise part zero)
        cols = torch.as_tensor(list(continuous), dtype=torch.long, device=basis.device)
        layers = []
        for parts, bias in weights:
            table = torch.addmm(bias, embedded, parts[-1])  # bias included
            low = [w.to(LOW) for w in parts[:-1]] + [parts[-1][:noise_dim].to(LOW)]
            layers.append((low, table))
        last, table = layers[-1]
        cont = [w.index_select(1, cols).contiguous() for w in last]
        cont_table = table.index_select(1, cols).contiguous()
        if columns is not None:
            keep = torch.as_tensor(list(columns), dtype=torch.long, device=basis.device)
            last = [w.index_select(1, keep).contiguous() for w in last]
            layers[-1] = (last, table.index_select(1, keep).contiguous())
        # the tables in bfloat16: each product starts from the looked-up row rounded so
        layers = [(low, table.to(LOW)) for low, table in layers]
        return layers, cols, cont, cont_table

    @torch.no_grad()
    def infer_lookup(self, noise: torch.Tensor, category: torch.Tensor, low: tuple):
        """:meth:`infer_low` for inputs ``[noise, one-hot(category)]`` (one conditional slot
        per row, as generation draws them): the conditional vector's products are rows
        looked up in tables instead of matrix products over its mostly-zero slots. ``low``
        from :meth:`lookup_weights`. Returns float32."""
        raw, head = self.infer_lookup_parts(noise, category, low)
        raw = raw.float()
        if head is not None:
            raw[:, low[1]] = head
        return raw

    @torch.no_grad()
    def infer_lookup_parts(self, noise: torch.Tensor, category: torch.Tensor, low: tuple):
        """:meth:`infer_lookup` as ``(raw in bfloat16, the continuous slots in float32 or
        None)``: the float32 output of :meth:`infer_lookup` has the second's values in the
        slots ``low[1]`` and the first's elsewhere (no float32 copy of the whole output)."""
        layers, cols, cont_parts, cont_table = low
        pieces = [noise.to(LOW)]  # newest first; the noise last, as the input in infer
        for parts, table in layers[:-1]:
            h = table.index_select(0, category)
            for piece, w in zip(pieces, parts, strict=True):
                h.addmm_(piece, w)
            pieces.insert(0, h.relu_())
        parts, table = layers[-1]
        raw = table.index_select(0, category)
        for piece, w in zip(pieces, parts, strict=True):
            raw.addmm_(piece, w)
        if not len(cols):
            return raw, None
        head = cont_table.index_select(0, category)
        _compensated(head, pieces, cont_parts)
        return raw, head


def _compensated(head: torch.Tensor, pieces: list, parts: list) -> None:
    """Add the products ``piece @ w`` to the float32 ``head`` with about 17 bits: the
    bfloat16 product, then the bfloat16 product of what its rounding lost."""
    for piece, w in zip(pieces, parts, strict=True):
        y = torch.mm(piece, w)
        head += y.float()
        head += torch.addmm(y, piece, w, beta=-1.0).float()  # what rounding lost


#: Precision of :meth:`Generator.infer_low`.
LOW = torch.bfloat16


def gumbel_noise(shape, generator: torch.Generator, device=None) -> torch.Tensor:
    """Standard Gumbel noise from ``generator``."""
    return _gumbel_from_uniform(torch.rand(shape, generator=generator, device=device))


def _gumbel_from_uniform(u: torch.Tensor) -> torch.Tensor:
    """The Gumbel noise of :func:`gumbel_noise` from its uniform draws (in place)."""
    return u.clamp_(1e-10, 1.0 - 1e-7).log_().neg_().log_().neg_()


def apply_heads(
    raw: torch.Tensor, layout: GanLayout, generator: torch.Generator, tau: float = 0.2
) -> torch.Tensor:
    """Activate raw generator output block by block: ``tanh`` or Gumbel-softmax (``tau``)."""
    noise = gumbel_noise(raw.shape, generator, raw.device)
    parts = []
    for b in layout.blocks:
        x = raw[:, b.start : b.stop]
        if b.activation == "tanh":
            parts.append(torch.tanh(x))
        else:
            parts.append(torch.softmax((x + noise[:, b.start : b.stop]) / tau, dim=1))
    return torch.cat(parts, dim=1) if parts else raw


@torch.no_grad()
def sample_compact(
    raw: torch.Tensor,
    layout: GanLayout,
    generator: torch.Generator | None,
    observed=(),
    *,
    uniform: torch.Tensor | None = None,
    head: torch.Tensor | None = None,
) -> torch.Tensor:
    """Encoder matrix of generated rows straight from the raw generator output.

    The sampling counterpart of ``layout.compact(apply_heads(raw))`` without the soft
    one-hot blocks: the arg-max of a Gumbel-softmax is the arg-max of ``logits + Gumbel``
    whatever the temperature (the Gumbel-max trick), so each block's choice is drawn as
    ``argmax(logits + Gumbel)``, in float32 on the generator's device. Blocks of equal
    width are taken together (one gather and one arg-max per width, see
    :class:`CompactPlan`). Columns in ``observed`` come out non-missing (see
    :meth:`GanLayout.compact`).

    ``uniform``: the uniform draws of the Gumbel noise, drawn beforehand as
    :func:`gumbel_noise` draws them (``generator`` is then not used; the tensor is
    overwritten). ``head``: the continuous slots' values, in the order of the layout's
    ``tanh`` blocks, when ``raw`` (then possibly bfloat16) does not hold them (see
    :meth:`Generator.infer_lookup_parts`). The rows are the same either way.
    """
    n = raw.shape[0]
    if uniform is None:
        gumbel = gumbel_noise(raw.shape, generator, raw.device)
    else:
        gumbel = _gumbel_from_uniform(uniform)
    dtype = torch.promote_types(raw.dtype, gumbel.dtype)
    out = gumbel.new_zeros((n, layout.compact_width), dtype=dtype)
    plan = CompactPlan.of(layout, observed)
    for k, (i, o) in enumerate(plan.continuous):  # one column at a time, as always
        out[:, o] = torch.tanh(raw[:, i] if head is None else head[:, k])
    # in place where the sum has the noise's type (bfloat16 or float32 raw): the same sums
    scores = gumbel.add_(raw) if dtype == gumbel.dtype else raw + gumbel
    for group in plan.groups(raw.device):
        cols, width = group[:2]
        write_choices(out, torch.argmax(scores.index_select(1, cols).view(n, -1, width), 2), group)
    return out


def write_choices(out: torch.Tensor, choice: torch.Tensor, group: tuple) -> None:
    """Write the choices ``(rows, blocks of the group)`` of one :class:`CompactPlan` group
    into the compact rows ``out``: a one-hot slot, or a code (and a missing flag)."""
    _, _, soft_at, soft, code_at, code, missing_code, missing_at, absorbs = group
    if len(soft):
        out.scatter_(1, choice.index_select(1, soft) + soft_at, 1.0)
    if len(code):
        value = choice.index_select(1, code)
        if len(absorbs):
            gone = value.index_select(1, absorbs) == missing_code
            out[:, missing_at] = gone.to(out.dtype)
            value[:, absorbs] = torch.where(gone, 0, value.index_select(1, absorbs))
        out[:, code_at] = value.to(out.dtype)


class CompactPlan:
    """Where :func:`sample_compact` reads and writes, for one layout and one set of observed
    columns (built once and cached on the layout).

    ``continuous`` lists ``(expanded slot, compact slot)`` of the ``tanh`` heads; every other
    block is a choice among its slots (the "missing" slot dropped for an observed column;
    an observed column's own missingness block is skipped), and blocks are grouped by their
    number of choices. ``order`` lists the expanded slots the groups read, group after
    group, and ``spans`` each group's ``(first, stop)`` in ``order`` and in the list of
    blocks (``n_blocks`` in all): what :func:`.candidates.sample_compact_cdf` reads.
    """

    def __init__(self, layout: GanLayout, observed):
        observed = set(observed)
        self.continuous = []
        by_width: dict = {}
        for b in layout.blocks:
            s = b.span
            if s.kind == "continuous":
                self.continuous.append((b.start, s.start))
                continue
            keep_missing = s.column not in observed
            width = b.width
            if not keep_missing:
                if s.role == "missing":
                    continue  # stays 0: observed
                if b.missing is not None:
                    width -= 1
            by_width.setdefault(width, []).append((b, keep_missing))
        self._groups = []
        for width, blocks in by_width.items():
            cols = [b.start + k for b, _ in blocks for k in range(width)]
            soft = [j for j, (b, _) in enumerate(blocks) if b.span.kind == "softmax"]
            code = [j for j, (b, _) in enumerate(blocks) if b.span.kind != "softmax"]
            absorbs = [
                i for i, j in enumerate(code) if blocks[j][0].missing is not None and blocks[j][1]
            ]
            self._groups.append(
                (
                    cols,
                    width,
                    [blocks[j][0].span.start for j in soft],
                    soft,
                    [blocks[j][0].span.start for j in code],
                    code,
                    [blocks[code[i]][0].span.n_categories for i in absorbs],
                    [blocks[code[i]][0].missing for i in absorbs],
                    absorbs,
                )
            )
        self._on = {}
        self.order, self.spans, self.n_blocks = [], [], 0
        for group in self._groups:
            cols, width = group[:2]
            blocks = len(cols) // max(width, 1)
            self.spans.append(
                (
                    len(self.order),
                    len(self.order) + len(cols),
                    self.n_blocks,
                    self.n_blocks + blocks,
                )
            )
            self.order += cols
            self.n_blocks += blocks

    @classmethod
    def of(cls, layout: GanLayout, observed) -> CompactPlan:
        cache = layout.__dict__.setdefault("_compact_plans", {})
        key = frozenset(observed)
        if key not in cache:
            cache[key] = cls(layout, key)
        return cache[key]

    def groups(self, device) -> list:
        """The groups as tensors on ``device``: ``(columns, width, softmax starts, softmax
        positions, code slots, code positions, missing codes, missing slots, positions of
        the codes that absorb "missing")``."""
        key = str(device)
        if key not in self._on:
            self._on[key] = [
                tuple(
                    v if isinstance(v, int) else torch.as_tensor(v, dtype=torch.long, device=device)
                    for v in group
                )
                for group in self._groups
            ]
        return self._on[key]


@torch.no_grad()
def recalibrate_batchnorm(module: nn.Module, make_input, n_batches: int = 8) -> None:
    """Re-estimate BatchNorm running statistics as exact averages over ``n_batches`` inputs
    from ``make_input()`` with the final weights (the running averages of training lag
    behind the moving weights); leaves the module in eval mode."""
    norms = [m for m in module.modules() if isinstance(m, nn.BatchNorm1d)]
    if not norms:
        module.eval()
        return
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    module.train()
    for _ in range(n_batches):
        module(make_input())
    for m, mom in zip(norms, saved, strict=True):
        m.momentum = mom
    module.eval()
