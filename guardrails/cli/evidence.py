"""`guardrails evidence`: which model decided what, on which data, with which checks; `evidence replay`: how many
decisions two versions would make differently on a stored batch.

The pack reads the Dagster instance ``$DAGSTER_HOME`` points at (check history of every guarded asset, scoring
materializations), the model registry (``--tracking-uri`` / ``$MLFLOW_TRACKING_URI``: versions, verdicts,
lineage, hold, pin, alias history) and the quarantine store (``--store`` / ``$GUARDRAILS_QUARANTINE``, else the
stores the instance recorded). A source that cannot be read makes the pack say it is incomplete. Exit codes:
0 the pack was built, 2 it could not be (no instance, bad time).

Replay loads both versions from the registry (``models:/NAME/V``; scikit-learn models score with
``predict_proba``, others with their pyfunc ``predict``), decides ``score >= threshold`` (``--threshold``, else
the ``--spec`` fairness spec's threshold) and counts changed decisions overall and per ``--segments`` column.
Exit codes: 0 counted, 2 could not run.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from guardrails._text import cap_text
from guardrails.cli.incident import parse_since
from guardrails.cli.options import STORE_ENV, STORE_HELP, StoreOrigin, choose_stores, open_instance
from guardrails.cli.render import console, print_error, print_json, table

EXIT_OK, EXIT_ERROR = 0, 2
SEGMENT_CHARS = 80

app = typer.Typer(name="evidence",
                  help="Evidence packs for auditors and postmortems; replay decisions of two versions.")


class PackFormat(StrEnum):
    MARKDOWN = "markdown"
    JSON = "json"


def _time(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_since(value)
    except typer.BadParameter as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from exc


TRACKING_OPTION = typer.Option("--tracking-uri", envvar="MLFLOW_TRACKING_URI", help="MLflow tracking URI.")


@app.callback(invoke_without_command=True)
def evidence_command(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Option("--model", help="The registered model (e.g. fraud_detector).")] = None,
    since: Annotated[
        str | None, typer.Option("--since", metavar="TIME", help="From TIME (ISO time, or 24h, 7d).")
    ] = None,
    until: Annotated[str | None, typer.Option("--until", metavar="TIME", help="Until TIME (ISO time, or 24h).")] = None,
    pack_format: Annotated[
        PackFormat, typer.Option("--format", case_sensitive=False, help="markdown (default) or json.")
    ] = PackFormat.MARKDOWN,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Also write the pack to this file.")] = None,
    alias: Annotated[str, typer.Option("--alias", help="The model's serving alias.")] = "champion",
    asset: Annotated[
        list[str] | None, typer.Option("--asset", help="Only these assets' checks (repeatable; default: every "
                                       "guarded asset, the model's checks among them).")
    ] = None,
    store: Annotated[str | None, typer.Option("--store", envvar=STORE_ENV, help=STORE_HELP)] = None,
    tracking_uri: Annotated[str | None, TRACKING_OPTION] = None,
    timeout: Annotated[int, typer.Option("--timeout", min=1, help="Seconds per MLflow request.")] = 5,
) -> None:
    """Assemble the evidence pack of MODEL: serving timeline, lineage, checks, holds and pins, quarantine, segments."""
    if ctx.invoked_subcommand is not None:
        return
    if not model:
        print_error("evidence needs --model NAME (or a subcommand: replay)")
        raise typer.Exit(EXIT_ERROR)
    from guardrails.evidence import build_evidence_pack, evidence_json, evidence_markdown

    start, end = _time(since, "--since"), _time(until, "--until")
    records = _gather(model, alias, asset, store, tracking_uri, timeout)
    pack = build_evidence_pack(records, since=start, until=end)
    if pack_format is PackFormat.JSON:
        text = evidence_json(pack, indent=2)
        print_json(pack.to_dict())
    else:
        text = evidence_markdown(pack)
        typer.echo(text, nl=False)
    if output is not None:
        output.write_text(text)
    raise typer.Exit(EXIT_OK)


def _gather(model: str, alias: str, assets: list[str] | None, store: str | None, tracking_uri: str | None,
            timeout: int) -> Any:
    from dataclasses import replace

    from guardrails.dagster.evidence import gather_evidence_records
    from guardrails.quarantine import QuarantineStore

    guard = None
    if tracking_uri:
        from guardrails.models import MlflowModelRegistry, ModelGuard

        guard = ModelGuard(MlflowModelRegistry(tracking_uri, timeout_seconds=timeout), model, alias=alias)
    with open_instance() as instance:
        try:
            choice = choose_stores(store, instance)
            absent_default = choice.origin is StoreOrigin.DEFAULT and not Path(choice.locations[0]).exists()
            stores = [] if absent_default else [QuarantineStore(location) for location in choice.locations]
            records = gather_evidence_records(instance, model_name=model, model_guard=guard, alias=alias,
                                              assets=assets, store=stores[0] if stores else None)
            extra = tuple(records.kept)
            if len(stores) > 1:
                from guardrails.evidence import KeptBatch

                extra += tuple(KeptBatch(asset=None, partition=None, manifest=m) for s in stores[1:] for m in s.list())
        except Exception as exc:  # any source that cannot be read: say which, exit 2
            print_error(f"cannot build the evidence pack: {type(exc).__name__}: {exc}")
            raise typer.Exit(EXIT_ERROR) from exc
    return replace(records, kept=extra, notes=records.notes + tuple(choice.warnings))


@app.command("replay")
def replay_command(
    data: Annotated[Path, typer.Argument(help="A stored batch (Parquet file) with the model's input columns.")],
    model: Annotated[str, typer.Option("--model", help="The registered model.")],
    versions: Annotated[
        tuple[int, int], typer.Option("--versions", metavar="A B", help="The two versions to compare.")
    ],
    segments: Annotated[
        str | None, typer.Option("--segments", metavar="COL,...", help="Count per value of these columns "
                                 "(default: the --spec's segments).")
    ] = None,
    threshold: Annotated[float | None, typer.Option("--threshold", help="Decide score >= THRESHOLD.")] = None,
    spec: Annotated[
        Path | None, typer.Option("--spec", help="A fairness spec whose threshold and segments to use.")
    ] = None,
    tracking_uri: Annotated[str | None, TRACKING_OPTION] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Score DATA with versions A and B of MODEL and count the decisions that change, overall and per segment."""
    import polars as pl

    from guardrails.errors import ContractError
    from guardrails.evidence import replay_decisions

    columns: list[str] = [c.strip() for c in segments.split(",") if c.strip()] if segments else []
    if spec is not None:
        from guardrails.checks.fairness import load_fairness_spec

        try:
            loaded = load_fairness_spec(spec)
        except (OSError, ContractError) as exc:
            print_error(f"cannot read the fairness spec {spec}: {exc}")
            raise typer.Exit(EXIT_ERROR) from exc
        threshold = loaded.threshold if threshold is None else threshold
        columns = columns or list(loaded.segments)
    if threshold is None:
        print_error("replay needs a decision threshold: --threshold T or --spec FAIRNESS_SPEC")
        raise typer.Exit(EXIT_ERROR)
    if not tracking_uri:
        print_error("replay needs the registry: pass --tracking-uri or set MLFLOW_TRACKING_URI")
        raise typer.Exit(EXIT_ERROR)
    try:
        frame = pl.read_parquet(data)
        scores = [_scores(tracking_uri, model, version, frame) for version in versions]
        replay = replay_decisions(frame, *scores, threshold=threshold, segments=columns,
                                  version_a=f"v{versions[0]}", version_b=f"v{versions[1]}")
    except Exception as exc:  # unreadable batch, unknown version, missing input column: could not run
        print_error(f"cannot replay the decisions: {type(exc).__name__}: {cap_text(str(exc), 1000)}")
        raise typer.Exit(EXIT_ERROR) from exc
    if json_output:
        print_json(replay.to_dict())
        raise typer.Exit(EXIT_OK)
    console.print(f"{model} {replay.version_a} -> {replay.version_b} on {replay.rows:,} rows (decision: score >= "
                  f"{replay.threshold:g}): {replay.changed:,} decision(s) change ({replay.share_changed:.2%}); "
                  f"{replay.newly_flagged:,} newly flagged, {replay.no_longer_flagged:,} no longer flagged "
                  f"(flagged {replay.flagged_a:,} -> {replay.flagged_b:,}).", soft_wrap=True)
    if replay.segments:
        console.print(table(
            "Changed decisions per segment",
            ("column", "segment", "rows", f"flagged {replay.version_a}", f"flagged {replay.version_b}", "changed",
             "share", "newly flagged", "no longer flagged"),
            ((s.column, cap_text("(null)" if s.segment is None else s.segment, SEGMENT_CHARS), f"{s.rows:,}",
              f"{s.flagged_a:,}", f"{s.flagged_b:,}", f"{s.changed:,}", f"{s.share_changed:.2%}",
              f"{s.newly_flagged:,}", f"{s.no_longer_flagged:,}") for s in replay.segments),
        ))
    raise typer.Exit(EXIT_OK)


def _scores(tracking_uri: str, model: str, version: int, frame: Any) -> Any:
    """One version's scores for `frame`: the positive-class probability of a scikit-learn model, else the pyfunc
    prediction (its last column when it returns several), on the columns its signature names."""
    import mlflow
    import numpy as np

    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    uri = f"models:/{model}/{version}"
    pyfunc = mlflow.pyfunc.load_model(uri)
    schema = pyfunc.metadata.get_input_schema()
    inputs = frame.select(schema.input_names()) if schema is not None and schema.has_input_names() else frame
    if "sklearn" in pyfunc.metadata.flavors:
        estimator = mlflow.sklearn.load_model(uri)
        if hasattr(estimator, "predict_proba"):
            return np.asarray(estimator.predict_proba(inputs.to_pandas()))[:, -1]
    predicted = np.asarray(pyfunc.predict(inputs.to_pandas()), dtype=float)
    return predicted[:, -1] if predicted.ndim == 2 else predicted
