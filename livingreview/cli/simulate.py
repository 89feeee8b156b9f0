"""Command: ``livingreview simulate`` (screening prioritisation replayed on a labelled set)."""

from __future__ import annotations

from pathlib import Path

import typer

from livingreview.errors import InputError


def simulate_command(
    dataset: Path = typer.Argument(..., help="ASReview-style CSV: record_id, title, abstract, "
                                             "label_included (1/0)."),
    seed: int = typer.Option(..., "--seed", help="Seed for the priors (one random inclusion, "
                                                 "one random exclusion) and the model."),
    out: Path = typer.Option(..., "--out", help="Where to write the screening order (CSV with "
                                               "a record_id column, priors first)."),
) -> None:
    """Replay screening on a labelled set with the prioritisation model; write the order."""
    # Imported here so that `livingreview --help` does not pay for pandas and scikit-learn.
    import pandas as pd

    from livingreview.screening.metrics import loss, recall_after, wss
    from livingreview.screening.ranking import frame_texts
    from livingreview.screening.simulation import read_labelled_set, simulate

    try:
        frame = read_labelled_set(dataset)
    except InputError as exc:
        typer.echo(f"livingreview simulate: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    labels = frame["label_included"].to_numpy()
    order = simulate(frame_texts(frame), labels, seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"record_id": frame["record_id"].to_numpy()[order]}).to_csv(out, index=False)
    screened = labels[order]
    typer.echo(f"wrote {len(order)} records in screening order to {out} "
               f"(WSS@95 {wss(screened):.3f}, loss {loss(screened):.3f}, "
               f"recall after 10% {recall_after(screened):.3f})")


def register(app: typer.Typer) -> None:
    """Add ``simulate`` to the app."""
    app.command("simulate")(simulate_command)
