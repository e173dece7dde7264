"""Where the diffusion model's MLE AUC is lost on Adult (issue #26; run by hand).

For saved fits (``--models``, e.g. written by ``bench_diffusion_train.py --save``):

* ``decompose``: gradient boosting (scikit-learn defaults, native categoricals) trained on the
  real rows and on 32,561 sampled rows, ROC-AUC on the test rows; then the same classifier
  trained on the *synthetic features with labels drawn from the real-trained classifier*
  (is it the features?), on the *real features with labels drawn from the
  synthetic-trained one* (is it the conditional of the target?), and on the real features
  relabelled from the real-trained one (the ceiling of the relabelling itself); the
  real-trained classifier's AUC on the synthetic rows (how sharply their labels follow the
  real conditional); by slice (relationship, marital status, age band, capital gain or loss
  above 0) the test AUC and mean probability of both classifiers; P(>50K | capital gain >
  5000) and P(>50K | capital loss > 0) in both tables.
* ``probe``: the denoiser's own classifier, ``P(income | every other column clean)`` from one
  evaluation with income's slots noised at sigma 80 (known-slot mask on the rest): ROC-AUC
  on the test rows.
* ``inpaint``: 2,000 complete test rows with 30 % of the cells hidden (MCAR) and inpainted:
  accuracy of the categorical cells, RMSE of the numeric ones in units of the column's
  standard deviation.

    python benchmarks/bench_diffusion_mle.py --models /tmp/dmle/base_s1.tabgen \
        --label "baseline, seed 1"

Results go to the ``diagnosis`` list of ``benchmarks/results/diffusion_mle.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import RESULTS, load_dataset

OUT = RESULTS / "diffusion_mle.json"
TARGET = "income"


def _frame(df: pd.DataFrame, ref: pd.DataFrame, cats: list) -> pd.DataFrame:
    X = df.drop(columns=[TARGET]).copy()
    for c in cats:
        if c != TARGET:
            X[c] = pd.Categorical(X[c].astype(object), categories=sorted(ref[c].dropna().unique()))
    return X


def _label(df: pd.DataFrame) -> np.ndarray:
    return df[TARGET].astype(str).str.contains(">").to_numpy().astype(int)


def _gb(X, y):
    return HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0).fit(
        X, y
    )


def decompose(model, train, test, cats) -> dict:
    synth = model.sample(len(train), random_state=1)
    Xtr, Xte, Xsy = (_frame(d, train, cats) for d in (train, test, synth))
    ytr, yte, ysy = _label(train), _label(test), _label(synth)
    real, syn = _gb(Xtr, ytr), _gb(Xsy, ysy)
    p_real, p_syn = real.predict_proba(Xte)[:, 1], syn.predict_proba(Xte)[:, 1]
    rng = np.random.default_rng(0)

    def relabelled(X, source):
        y = (rng.random(len(X)) < source.predict_proba(X)[:, 1]).astype(int)
        return float(roc_auc_score(yte, _gb(X, y).predict_proba(Xte)[:, 1]))

    out = {
        "auc_real": float(roc_auc_score(yte, p_real)),
        "auc_synthetic": float(roc_auc_score(yte, p_syn)),
        "synthetic_features_real_conditional": relabelled(Xsy, real),
        "real_features_synthetic_conditional": relabelled(Xtr, syn),
        "real_features_real_conditional": relabelled(Xtr, real),
        "real_classifier_on_synthetic_rows": float(
            roc_auc_score(ysy, real.predict_proba(Xsy)[:, 1])
        ),
    }
    bands = pd.cut(test["age"], [0, 25, 35, 45, 55, 65, 100]).astype(str)
    slices = {
        "relationship": test["relationship"].astype(str),
        "marital_status": test["marital_status"].astype(str),
        "age": bands,
        "capital_gain>0": test["capital_gain"] > 0,
        "capital_loss>0": test["capital_loss"] > 0,
    }
    rows = []
    for name, values in slices.items():
        for v in pd.unique(values):
            at = (values == v).to_numpy()
            if at.sum() < 150 or yte[at].min() == yte[at].max():
                continue
            rows.append(
                [name, str(v), int(at.sum()), round(float(yte[at].mean()), 3)]
                + [round(float(p[at].mean()), 3) for p in (p_real, p_syn)]
                + [round(float(roc_auc_score(yte[at], p[at])), 3) for p in (p_real, p_syn)]
            )
    out["slices"] = rows  # slice, value, n, rate, mean p real / synth, AUC real / synth
    for name, df, y in (("real", train, ytr), ("synthetic", synth, ysy)):
        out[f"p_high_given_gain_over_5000_{name}"] = float(y[df["capital_gain"] > 5000].mean())
        out[f"p_high_given_loss_{name}"] = float(y[df["capital_loss"] > 0].mean())
    return out


def probe(model, test) -> float:
    from tabgen.synthesizers.diffusion import process

    Z = model.encoder_.transform(test, rng=np.random.default_rng(0))
    X = torch.from_numpy(process.to_model(Z, model.layout_))
    span = next(s for s in model.encoder_.spans if s.column == TARGET and s.kind == "softmax")
    known = torch.ones_like(X, dtype=torch.bool)
    known[:, span.start : span.stop] = False
    noise = torch.randn(X.shape, generator=torch.Generator().manual_seed(0))
    x = torch.where(known, X, X + 80.0 * noise)
    with torch.no_grad():
        D = model.denoiser_(x, torch.full((len(X),), 80.0), known)[:, span.start : span.stop]
    y = _label(test)
    return max(float(roc_auc_score(y, D[:, j])) for j in range(D.shape[1]))


def inpaint(model, train, test, cats) -> dict:
    rows = test.dropna().sample(2000, random_state=0).reset_index(drop=True)
    hide = np.random.default_rng(0).random(rows.shape) < 0.3
    done = model.inpaint(rows.mask(hide), random_state=0)
    acc, err = [], []
    for j, c in enumerate(rows.columns):
        h = hide[:, j]
        truth, got = rows[c][h], done[c][h]
        if c in cats:
            acc.append(float((got.astype(str).to_numpy() == truth.astype(str).to_numpy()).mean()))
        else:
            z = (got.astype(float).to_numpy() - truth.to_numpy()) / train[c].std()
            err.append(float(np.sqrt(np.mean(z**2))))
    return {
        "inpaint_categorical_accuracy": float(np.mean(acc)),
        "inpaint_numeric_zrmse": float(np.mean(err)),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", required=True, help="saved fits, comma-separated")
    parser.add_argument("--label", default=None, help="names of the fits, comma-separated")
    parser.add_argument("--parts", default="decompose,probe,inpaint")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    import tabgen

    torch.set_num_threads(1)
    train, test, meta = load_dataset("adult")
    cats = meta["categorical"]
    paths = args.models.split(",")
    labels = args.label.split(",") if args.label else paths
    out = Path(args.out)
    doc = json.loads(out.read_text()) if out.exists() else {}
    command = "python benchmarks/bench_diffusion_mle.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    for path, label in zip(paths, labels):
        model = tabgen.load(path)
        row = {"fit": label, "model": path, "command": command}
        parts = args.parts.split(",")
        if "decompose" in parts:
            row.update(decompose(model, train, test, cats))
        if "probe" in parts:
            row["denoiser_classifier_auc"] = probe(model, test)
        if "inpaint" in parts:
            row.update(inpaint(model, train, test, cats))
        row.update(date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), load=os.getloadavg()[0])
        print(json.dumps({k: v for k, v in row.items() if k != "slices"}), flush=True)
        doc.setdefault("diagnosis", []).append(row)
        out.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
