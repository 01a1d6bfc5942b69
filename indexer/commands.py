"""`energy-node reindex`: drop the read model and rebuild it from the chain (the node must be stopped)."""

from __future__ import annotations

from pathlib import Path

import click

from indexer.follower import Indexer
from indexer.store import INDEX_FILE, drop
from node.chain import ChainStoreError
from node.service import Node


@click.command()
@click.option("--datadir", type=click.Path(exists=True, path_type=Path), required=True)
def reindex(datadir: Path) -> None:
    """Drop DATADIR/index.sqlite and index every final block again; prints the rate."""
    try:
        node = Node.open(datadir)
    except ChainStoreError as exc:
        raise click.ClickException(f"{exc} (is the node still running?)") from exc
    try:
        drop(datadir / INDEX_FILE)
        indexer = Indexer.for_datadir(node, datadir)
        progress = indexer.catch_up()
        indexer.close()
    finally:
        node.close()
    seconds = max(progress.seconds, 1e-9)
    click.echo(f"indexed {progress.blocks} blocks and {progress.readings} readings in {progress.seconds:.2f} s "
               f"({progress.blocks / seconds:.0f} blocks/s, {progress.readings / seconds:.0f} readings/s)")
