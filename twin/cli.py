"""The ``gatetwin`` command line."""

from __future__ import annotations

import typer

app = typer.Typer(help="gatetwin: a digital twin and test-bed for digital border gates.", no_args_is_help=False)


@app.callback(invoke_without_command=True)
def main(ctx: typer.Context) -> None:
    """With no command: run the default scenario end to end and write its report."""
    if ctx.invoked_subcommand is None:
        typer.echo("gatetwin: the twin is not built yet; see the README for what is available.")
        raise typer.Exit(code=1)
