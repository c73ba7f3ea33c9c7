"""`yakkan graph`: the dependency graph."""

from __future__ import annotations

import datetime as dt
import json

import click

from yakkan.cli.output import emit, write_output
from yakkan.engine.semantics.graph import (
    build,
    find_provision,
    impact,
    to_dot,
    to_json,
    to_mermaid,
)
from yakkan.renderers.terminal import line_safe


def run_graph(doc: str, as_of: dt.date | None, fmt: str, impact_of: str | None,
              output: str | None) -> int:
    from yakkan.engine.semantics.rulebooks import (
        rulebook_for,  # the CLI end; rulebooks uses cycles()
    )
    book = rulebook_for(doc, as_of)
    g = build(book)
    if impact_of:
        omitted = [t for t in find_provision(book, impact_of)
                   if book.provisions[t].unit.status == "omitted"]
        if omitted:
            click.echo(f"note: 「{line_safe(impact_of)}」 lies in {book.cite(omitted[0])}"
                       "（略）, which this excerpt does not encode: what depends on it is not known "
                       "beyond the citations of that range", err=True)
        rows = impact(book, impact_of)
        if fmt == "json":
            out = json.dumps([{"id": n, "name": name} for n, name in rows], ensure_ascii=False,
                             indent=2)
        else:
            out = f"{len(rows)} node(s) depend on 「{impact_of}」:\n" + "\n".join(
                f"  {name}  ({n})" for n, name in rows)
    elif fmt == "dot":
        out = to_dot(g)
    elif fmt == "mermaid":
        out = to_mermaid(g)
    elif fmt == "svg":  # the overview: references between articles, drawn without Graphviz
        from yakkan.renderers.report import article_edges, overview_svg, reference_edges
        out = str(overview_svg(book, article_edges(book, reference_edges(book)))) + "\n"

    else:
        out = json.dumps(to_json(g), ensure_ascii=False, indent=2, default=str)
    if output:
        write_output(output, out)
    else:
        emit(out, None, "json" if fmt == "json" else "text")
    return 0
