"""batch_native: a Parquet table straight through DuckDB — read, validated, decided and written
in SQL, with no row passing through Python.

This is the path `yakkan batch` takes for Parquet input with the DuckDB engine. DuckDB reads
the file in row groups and writes the output as it goes (a sort on the row number spills to
disk when it must), so a table of tens of millions of rows never becomes Python objects.

Parquet columns are typed, so a column of the wrong kind (a DOUBLE for an amount, text for a
yes/no fact) is a diagnostic for the whole file (exit 2) rather than a row error. Each row is
checked as a case file would be, in SQL: an enum value that is no member, a negative count
or amount, a percentage outside 0–1, a date out of range or not ISO, a duration not written
as one (61秒, 3分, 30日), text too long, a value given together with `__absent`, a fact its
version does not have, a date with no version in force. A row that fails is in the output
with `error_code` and `error_message` and is not decided — the same codes as the
row-by-row path (`batch.py`).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from typing import Any

from yakkan.engine.core.diagnostics import Diagnostic, YakkanError
from yakkan.engine.core.periods import _DURATION_RE
from yakkan.engine.core.textnorm import IDENTIFIERS
from yakkan.engine.features.tables import AGAINST, Summary, format_of
from yakkan.engine.runtime.case import (
    ABSENT_OK,
    DATE_MAX,
    DATE_MIN,
    MAX_AMOUNT,
    MAX_INT,
    MAX_TEXT,
)
from yakkan.engine.runtime.sql import (
    ABSENT_SUFFIX,
    AS_OF,
    DECIMAL,
    DUCKDB,
    compile_sql,
    sql_type,
)
from yakkan.engine.semantics.program import UNDETERMINED

D = DUCKDB
_INTS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER",
         "UBIGINT", "HUGEINT")
_DURATION_SQL_RE = "(?:" + _DURATION_RE.pattern.replace("0-9", "0-9０-９") + ")+"


def _lit(s: str) -> str:
    return D.string(s)


@dataclass
class _Col:
    name: str
    type: str  # DuckDB's type name as DESCRIBE gives it


def _accepts(base: str, actual: str) -> bool:
    """Whether a Parquet column of type `actual` can hold a fact of type `base`."""
    a = actual.upper()
    if base == "bool":
        return a == "BOOLEAN"
    if base == "int":
        return a in _INTS
    if base in ("decimal", "money", "percent"):
        return a in _INTS or a.startswith("DECIMAL")
    if base == "date":
        return a in ("DATE", "VARCHAR")
    if base in ("text", "enum", "duration"):
        return a == "VARCHAR"
    return a.endswith("[]") and "STRUCT" in a


def native_batch(lay: Any, input_path: str, output_path: str | None, names: list[str],
                 default_as_of: dt.date, errors_path: str | None,
                 progress: bool = False) -> Summary:
    """Decide a Parquet table in DuckDB; write the output; return the batch `Summary`.
    With `progress` (a terminal), DuckDB's own progress bar shows how far each pass is."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET enable_progress_bar = {'true' if progress else 'false'}").fetchall()
    # memory stays bounded: past this DuckDB spills to its temporary folder (the sort by row
    # number and the output table), instead of growing to most of the machine's memory
    limit = os.environ.get("YAKKAN_BATCH_MEMORY", "1GB")
    con.execute(f"SET memory_limit = {_lit(limit)}").fetchall()
    con.execute(f"SET temp_directory = {_lit(tempfile.gettempdir() + '/yakkan-duckdb')}") \
        .fetchall()
    src = f"read_parquet({_lit(input_path)}, file_row_number = true)"
    try:
        cols = [_Col(r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {src}")
                .fetchall()]
    except duckdb.Error as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise YakkanError([Diagnostic(code="batch.unreadable",
                                      message=f"cannot read {input_path} as Parquet: "
                                      f"{first[:300]}")]) from None
    have = {c.name: c for c in cols if c.name != "file_row_number"}
    lay.check_columns(list(have), input_path)
    bad = []
    for name, c in have.items():
        base = ("bool" if name.endswith(ABSENT_SUFFIX) else
                "date" if name == "as_of" else None)
        t = lay.facts.get(name)
        if t is not None:
            base = t.base
        if base is not None and not _accepts(base, c.type):
            bad.append(Diagnostic(
                code="batch.column-type", message=f"{input_path}: the column {name!r} is "
                f"{c.type}; {'an' if base[0] in 'aeiou' else 'a'} {base} fact needs "
                f"{sql_type(t) if t is not None else 'BOOLEAN'}",
                hint=f"`yakkan batch --template {lay.doc} FILE.parquet` writes the types"))
    if bad:
        raise YakkanError(bad)
    view = _validated(lay, have, src, default_as_of)
    con.execute(f"CREATE TEMP VIEW __v AS {view}")
    parts = []
    for book in lay.books:
        v = book.doc.header.version or ""
        mine = [o for o in names if o in _outcomes(book)]
        prog = compile_sql(book, D, mine)
        rel = (f"(SELECT * FROM __v WHERE __version = {_lit(v)} AND __error_code IS NULL)")
        q = prog.query(rel, ("__row", "id", "__version", AS_OF))
        outs = []
        for o in names:
            for part in ("value", "grounds", "undetermined", "missing"):
                col = D.ident(f"{o}.{part}")
                typ = "VARCHAR" if part == "value" else "VARCHAR[]"
                outs.append(f"{col}" if o in mine else f"CAST(NULL AS {typ}) AS {col}")
        parts.append(f"SELECT __row, id, __version, {AS_OF}, CAST(NULL AS VARCHAR) AS "
                     f"__error_code, CAST(NULL AS VARCHAR) AS __error_message, "
                     f"{', '.join(outs)} FROM ({q})")
    err_outs = ", ".join(
        f"CAST(NULL AS {'VARCHAR' if p == 'value' else 'VARCHAR[]'}) AS "
        f"{D.ident(f'{o}.{p}')}" for o in names
        for p in ("value", "grounds", "undetermined", "missing"))
    parts.append(f"SELECT __row, id, __version, {AS_OF}, __error_code, __error_message, "
                 f"{err_outs} FROM __v WHERE __error_code IS NOT NULL")
    body = " UNION ALL ".join(parts)
    out_cols = ", ".join(
        ["__row AS row", "id", "__version AS version", f"CAST({AS_OF} AS VARCHAR) AS as_of",
         "__error_code AS error_code", "__error_message AS error_message"]
        + [D.ident(f"{o}.{p}") for o in names for p in ("value", "grounds", "undetermined",
                                                        "missing")])
    con.execute(f"CREATE TEMP TABLE __out AS SELECT {out_cols} FROM ({body}) ORDER BY __row")
    if output_path is not None:
        _copy(con, "__out", output_path, format_of(output_path), names)
    if errors_path is not None:
        _copy(con, "(SELECT row, id, error_code, error_message FROM __out WHERE error_code "
                   "IS NOT NULL ORDER BY row)", errors_path, format_of(errors_path), [])
    return _summary(con, names, Summary())


def _outcomes(book: Any) -> list[str]:
    from yakkan.engine.semantics.program import program_of
    return list(program_of(book).decisions)


def _copy(con: Any, rel: str, path: str, fmt: str, names: list[str]) -> None:
    src = rel if rel.startswith("(") else f"(SELECT * FROM {rel})"
    if fmt == "csv":  # lists as JSON arrays, as the row-by-row path writes them
        lists = {D.ident(f"{o}.{p}") for o in names for p in ("grounds", "undetermined",
                                                            "missing")}
        cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()]
        sel = ", ".join(f"CAST(to_json({D.ident(c)}) AS VARCHAR) AS {D.ident(c)}"
                        if D.ident(c) in lists else D.ident(c) for c in cols)
        src = f"(SELECT {sel} FROM {src})"
        opts = "FORMAT CSV, HEADER"
    elif fmt == "jsonl":
        opts = "FORMAT JSON"
    else:
        opts = "FORMAT PARQUET"
    try:
        con.execute(f"COPY {src} TO {_lit(path)} ({opts})")
    except Exception as err:  # duckdb's IO errors
        raise YakkanError([Diagnostic(code="io.unwritable",
                                      message=f"cannot write `{path}`: {str(err)[:200]}",
                                      hint="check that the folder exists and that you may "
                                           "write there")]) from None


def _summary(con: Any, names: list[str], s: Summary) -> Summary:
    s.rows, s.rejected = con.execute(
        "SELECT count(*), count(error_code) FROM __out").fetchone()
    if names:
        undet = " OR ".join(f"{D.ident(f'{o}.value')} = {_lit(UNDETERMINED)}" for o in names)
        s.undetermined = con.execute(
            f"SELECT count(*) FROM __out WHERE error_code IS NULL AND ({undet})").fetchone()[0]
    s.decided = s.rows - s.rejected - s.undetermined
    for code, n in con.execute("SELECT error_code, count(*) FROM __out WHERE error_code IS "
                               "NOT NULL GROUP BY 1").fetchall():
        s.errors[code] = n
    for o in names:
        val = D.ident(f"{o}.value")
        for v, n in con.execute(f"SELECT {val}, count(*) FROM __out WHERE {val} IS NOT NULL "
                                "GROUP BY 1").fetchall():
            s.values[(o, v)] = n
        against = ", ".join(_lit(x) for x in AGAINST)
        for c, n in con.execute(
                f"SELECT g, count(*) FROM (SELECT unnest({D.ident(f'{o}.grounds')}) AS g "
                f"FROM __out WHERE {val} IN ({against})) GROUP BY 1").fetchall():
            s.grounds[(o, c)] = n
        for m, n in con.execute(
                f"SELECT m, count(*) FROM (SELECT unnest({D.ident(f'{o}.missing')}) AS m "
                "FROM __out) GROUP BY 1").fetchall():
            s.missing[m] += n
    return s


# ---- validation in SQL ----------------------------------------------------------------------

def _validated(lay: Any, have: dict[str, _Col], src: str, default_as_of: dt.date) -> str:
    """SELECT of the canonical layout with `__row`, `id`, `__as_of`, `__version`,
    `__error_code` and `__error_message`; every check reads the column as the file has it."""
    ident = D.ident
    default = f"DATE {_lit(default_as_of.isoformat())}"
    if "as_of" in have:
        a = ident("as_of")
        as_of = f"coalesce(TRY_CAST({a} AS DATE), CASE WHEN {a} IS NULL THEN {default} END)"
        bad_date = f"({a} IS NOT NULL AND TRY_CAST({a} AS DATE) IS NULL)"
    else:
        as_of, bad_date = default, "FALSE"
    l1 = f"SELECT *, file_row_number + 1 AS __row, {as_of} AS {AS_OF}, {bad_date} AS " \
         f"__bad_date FROM {src}"
    cases = []
    # the version in force on the row's date, as `load.select_version` chooses it: of the
    # versions in force (a first day, none after the date, no last day before it), the newest
    for book in reversed(lay.books):
        h = book.doc.header
        if h.effective_from is None:
            continue  # never in force (`load.in_force`)
        cond = [f"{AS_OF} >= DATE {_lit(h.effective_from.isoformat())}"]
        if h.effective_until:
            cond.append(f"{AS_OF} <= DATE {_lit(h.effective_until.isoformat())}")
        cases.append(f"WHEN {' AND '.join(cond)} THEN {_lit(h.version or '')}")
    version = f"CASE {' '.join(cases)} END" if cases else "CAST(NULL AS VARCHAR)"
    l2 = f"SELECT *, {version} AS __version FROM ({l1})"
    sel = ["__row", f"CAST({ident('id')} AS VARCHAR) AS id" if "id" in have else
           "CAST(NULL AS VARCHAR) AS id", AS_OF, "__version", "__bad_date"]
    checks: list[tuple[str, str]] = []  # (condition of an error, message)
    for path, t in lay.facts.items():
        c = have.get(path)
        ty = sql_type(t)
        if c is None:
            sel.append(f"CAST(NULL AS {ty}) AS {ident(path)}")
        else:
            sel.append(f"TRY_CAST({ident(path)} AS {ty}) AS {ident(path)}")
            checks.append((f"({ident(path)} IS NOT NULL AND TRY_CAST({ident(path)} AS {ty}) "
                           "IS NULL)", f"{path}: cannot be read as {ty}"))
            checks += _version_checks(lay, path, ident(path), t)
        if t.base in ABSENT_OK:
            ab = path + ABSENT_SUFFIX
            sel.append(f"{ident(ab)} AS {ident(ab)}" if ab in have else
                       f"CAST(NULL AS BOOLEAN) AS {ident(ab)}")
            if ab in have and c is not None:
                checks.append((f"({ident(ab)} AND {ident(path)} IS NOT NULL)",
                               f"{path}: a value and {ab} together"))
    for book in lay.books:  # facts a row's version does not have
        v = book.doc.header.version or ""
        for path in lay.facts:
            if path in have and path not in book.facts:
                checks.append((f"(__version = {_lit(v)} AND {ident(path)} IS NOT NULL)",
                               f"{path}: no fact of {lay.doc} {v}"))
    msgs = ", ".join(f"CASE WHEN {cond} THEN {_lit(m)} END" for cond, m in checks)
    err_msg = f"NULLIF(concat_ws('; ', {msgs}), '')" if checks else "CAST(NULL AS VARCHAR)"
    l3 = f"SELECT {', '.join(sel)}, {err_msg} AS __fact_error FROM ({l2})"
    code = ("CASE WHEN __bad_date THEN 'batch.bad-date' "
            "WHEN __version IS NULL THEN 'eval.no-version-in-force' "
            "WHEN __fact_error IS NOT NULL THEN 'case.invalid-fact' END")
    message = ("CASE WHEN __bad_date THEN 'as_of: not a date (write it as a DATE column or "
               "ISO text)' WHEN __version IS NULL THEN " +
               _lit(f"no version of {lay.doc} is in force on ") +
               f" || CAST({AS_OF} AS VARCHAR) WHEN __fact_error IS NOT NULL THEN __fact_error "
               "END")
    return f"SELECT *, {code} AS __error_code, {message} AS __error_message FROM ({l3})"


def _version_checks(lay: Any, path: str, v: str, t: Any) -> list[tuple[str, str]]:
    """The value checks of one fact: the layout's type's, or — where versions declare the
    fact with different ranges or patterns — each version's own, for its rows."""
    mine = {b.doc.header.version or "": b.facts[path].type for b in lay.books
            if path in b.facts}
    if all(x == t for x in mine.values()) or any(x.base != t.base for x in mine.values()):
        return _value_checks(path, v, t)
    return [(f"(__version = {_lit(ver)} AND {cond})", msg)
            for ver, x in mine.items() for cond, msg in _value_checks(path, v, x)]


def _value_checks(path: str, v: str, t: Any, var: str | None = None) -> list[tuple[str, str]]:
    """Row errors for one fact's value, as the case model would raise them."""
    b = t.base
    out: list[tuple[str, str]] = []
    c = t.constraint
    if c is not None and c.pattern is not None:
        out.append((f"(NOT regexp_full_match({v}, {_lit(c.pattern)}))",
                    f"{path}: does not match {c.describe()}"))
    elif c is not None:  # a declared range (its lower bound replaces "0 or more")
        lo, hi = t.value_bounds()
        assert lo is not None  # a range has a lower bound
        outside = [f"{v} < {lo:f}"] + ([f"{v} > {hi:f}"] if hi is not None else [])
        out.append((f"({' OR '.join(outside)})", f"{path}: outside {c.describe()}"))
    if b == "int":
        if c is None:
            out.append((f"({v} < 0)", f"{path}: expected a count (0 or more)"))
        out.append((f"(abs({v}) > {MAX_INT})", f"{path}: too large (at most {MAX_INT:,})"))
    elif b == "money":
        if c is None:
            out.append((f"({v} < 0)", f"{path}: expected an amount (0 or more)"))
        out.append((f"(abs({v}) > {MAX_AMOUNT})", f"{path}: too large"))
    elif b == "decimal":
        out.append((f"(abs({v}) > {MAX_AMOUNT})", f"{path}: too large"))
    elif b == "percent":
        out.append((f"(CAST({v} AS {DECIMAL}) < 0 OR CAST({v} AS {DECIMAL}) > 100)",
                    f"{path}: a percentage out of range"))
    elif b == "date":
        d = f"TRY_CAST({v} AS DATE)"
        out.append((f"({v} IS NOT NULL AND {d} IS NULL)",
                    f"{path}: not a date (ISO text or a DATE column)"))
        out.append((f"({d} < DATE {_lit(DATE_MIN.isoformat())} OR "
                    f"{d} > DATE {_lit(DATE_MAX.isoformat())})", f"{path}: date out of range"))
    elif b == "text":
        out.append((f"(length({v}) > {MAX_TEXT})", f"{path}: text too long"))
        if t.ident in IDENTIFIERS:  # as `core/textnorm.canonical_id` reads it
            ident = IDENTIFIERS[t.ident]
            src, dst = "０１２３４５６７８９‐‑‒–—―−－ｰ﹣", "0123456789----------"
            x = f"trim(translate({v}, {_lit(src)}, {_lit(dst)}))"
            out.append((f"(NOT regexp_full_match({x}, '[0-9]+(-[0-9]+)*') OR "
                        f"length(replace({x}, '-', '')) <> {ident.digits})",
                        f"{path}: not {ident.describe()}"))
    elif b == "enum":
        members = ", ".join(_lit(m.name) for m in t.members)
        if members:
            out.append((f"({v} NOT IN ({members}))",
                        f"{path}: not one of " + ", ".join(m.name for m in t.members)))
    elif b == "duration":
        out.append((f"(NOT regexp_full_match(regexp_replace({v}, '\\s+', '', 'g'), "
                    f"{_lit(_DURATION_SQL_RE)}))",
                    f"{path}: not a duration such as 61秒, 3分 or 30日"))
    elif b == "list":
        x = "__r"
        for f in t.fields:
            fv = f"{x}.{D.ident(f.name)}"
            for cond, msg in _value_checks(f"{path}[].{f.name}", fv, f.type):
                out.append((f"(len(list_filter({v}, lambda {x}: {cond})) > 0)", msg))
    return out

