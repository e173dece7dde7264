"""The pipeline commands: ``rebalance``, ``impute``, ``anonymize``."""

from __future__ import annotations

import time

from tabgen.cli.common import (
    PRESETS,
    UsageError,
    check_table_output,
    model_spec,
    note,
    read_data,
    report_paths,
    schema_option,
    show_progress,
    show_report,
    split_columns,
)


def parse_strategy(text: str):
    """``--strategy``: a float ratio, counts ``CLASS=N,...``, or an imbalanced-learn name."""
    try:
        return float(text)
    except ValueError:
        pass
    if "=" not in text:
        return text
    out = {}
    for part in text.split(","):
        if "=" not in part:
            raise UsageError(f"--strategy: expected CLASS=COUNT, got {part!r} in {text!r}")
        key, value = part.split("=", 1)
        try:
            count = int(value)
        except ValueError:
            raise UsageError(
                f"--strategy: the count for class {key!r} must be an integer, got {value!r}"
            ) from None
        if count < 0:
            raise UsageError(f"--strategy: the count for class {key!r} is negative ({count})")
        if key in out:
            raise UsageError(f"--strategy: class {key!r} given twice")
        out[key] = count
    return out


def cmd_rebalance(args) -> int:
    from tabgen.io import write_table
    from tabgen.pipelines import SyntheticOverSampler

    model = args.model or PRESETS["rebalance"][args.preset]
    cls, params = model_spec(args, model)
    strategy = parse_strategy(args.strategy)
    check_table_output(args, args.data)
    data = read_data(args, args.data, target=True)
    if model == "diffusion" and not show_progress(args):
        note(
            args,
            f"fitting the diffusion model on {len(data)} rows: minutes on a CPU "
            "(--verbose shows progress; -m copula takes seconds)",
        )
    sampler = SyntheticOverSampler(
        synthesizer=cls(**params),
        sampling_strategy=strategy,
        selection=None if args.selection == "none" else args.selection,
        random_state=args.seed,
        verbose=show_progress(args),
    )
    X_res, y_res = sampler.fit_resample(data.drop(columns=[args.target]), data[args.target])
    out = X_res.assign(**{args.target: y_res.to_numpy()})[list(data.columns)]
    if args.mark_synthetic:
        out["is_synthetic"] = sampler.synthetic_mask_
    write_table(out, args.output, overwrite=args.overwrite)
    counts = ", ".join(f"{k!s}: {v}" for k, v in y_res.value_counts().items())
    print(f"added {int(sampler.synthetic_mask_.sum())} synthetic rows ({counts}) -> {args.output}")
    return 0


def cmd_impute(args) -> int:
    from tabgen.io import write_table
    from tabgen.pipelines import SyntheticImputer

    if args.model is None:  # a preset: the imputer builds its own model (chained: none)
        given = [f for f in ("epochs", "max_time", "device", "param") if getattr(args, f, None)]
        if given:
            flag = "--" + given[0].replace("_", "-")
            raise UsageError(
                f"{flag} sets a synthesizer's parameter, which --preset {args.preset} "
                "chooses itself: choose a model with -m MODEL"
            )
        engine = {"schema": schema_option(args), "preset": args.preset}
    else:
        cls, params = model_spec(args)
        if not cls.capabilities.inpainting:  # the parser's choices already say so
            raise UsageError(f"-m {args.model}: this model cannot fill missing cells")
        engine = {"synthesizer": cls(**params)}
    check_table_output(args, args.data)
    data = read_data(args, args.data)
    imputer = SyntheticImputer(
        **engine,
        n_draws=args.draws,
        random_state=args.seed,
        verbose=show_progress(args),
    )
    filled = imputer.fit_transform(data)
    write_table(filled, args.output, overwrite=args.overwrite)
    print(
        f"filled {int(data.isna().sum().sum() - filled.isna().sum().sum())} cells -> {args.output}"
    )
    return 0


def cmd_anonymize(args) -> int:
    from tabgen.pipelines import Anonymizer

    preset = args.preset or ("fast" if args.epsilon is not None else "best")
    model = args.model or PRESETS["anonymize"][preset]
    cls, params = model_spec(args, model, skip=("epsilon", "delta"))
    out = check_table_output(args, args.data)
    html = json_path = None
    if args.report:
        html, json_path = report_paths(args.report, args.overwrite, [args.data])
        if out in (html, json_path):
            raise ValueError(f"-o and --report name the same file {str(out)!r}")
    data = read_data(args, args.data, target=True)
    anonymizer = Anonymizer(
        synthesizer=cls(**params),
        holdout=args.holdout,
        target=args.target,
        pii=args.pii,
        pii_columns=split_columns(args.pii_columns),
        keep_columns=split_columns(args.keep_columns),
        rare_threshold=args.rare_threshold,
        epsilon=args.epsilon,
        delta=args.delta,
        random_state=args.seed,
        verbose=show_progress(args),
    )
    t0 = time.perf_counter()
    anonymizer.fit(data)
    print(
        f"fitted {model} on {len(anonymizer.train_)} rows "
        f"({len(anonymizer.holdout_)} held out) in {time.perf_counter() - t0:.1f} s"
    )
    n = args.rows or len(data)
    keep = min(n, len(anonymizer.train_)) if json_path is not None else 0
    result = anonymizer.export(
        out, n, batch_size=args.batch_size, overwrite=args.overwrite, keep_rows=keep
    )
    guards = anonymizer.safeguards()
    pii = ", ".join(f"{c} ({t})" for c, t in guards["pii_columns"].items()) or "none"
    print(f"wrote {n} synthetic rows -> {out}")
    print(f"  PII/key columns {args.pii}d: {pii}")
    print(f"  rare categories merged: {sum(guards['rare_categories_merged'].values())}")
    print(f"  near-copies replaced: {guards['rows_replaced']}")
    if guards["differential_privacy"]:
        dp = guards["differential_privacy"]
        print(f"  differential privacy: epsilon {dp['epsilon']:.3g}, delta {dp['delta']:.3g}")
    if json_path is not None:
        print(f"measuring privacy risk on {keep} exported rows against the holdout ...")
        show_report(anonymizer.report(result[1]), html, json_path, args.overwrite)
    print("the fitted model was not saved (it has seen the real rows)")
    return 0
