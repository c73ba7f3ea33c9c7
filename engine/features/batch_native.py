"""batch_native: a Parquet table straight through SQL — read, validated, decided and written
by DuckDB (embedded) or by Spark (a cluster's session, or a local one), with no row passing
through Python.

This is the path `yakkan batch` takes for Parquet input with the DuckDB and the Spark
engines. DuckDB reads the file in row groups and writes the output as it goes, in input
order, in one pipeline (no table, no sort: `_decided_in_order`), so a table of tens of
millions of rows never becomes Python objects nor fills memory; Spark (`batch_spark.py`)
numbers the rows by their place in the input and writes the output ordered by that number
as a Spark output folder — nothing is collected to the driver but the summary's counts.
Both dialects run the same SQL, written once here and in `runtime/sql.py`
(`Dialect`): the row checks below, the routing of rows to versions, and the compiled
decision program.

Parquet columns are typed, so a column of the wrong kind (a DOUBLE for an amount, text for a
yes/no fact) is a diagnostic for the whole file (exit 2) rather than a row error. Each row is
checked as a case file would be, in SQL: an enum value that is no member, a negative count
or amount, a percentage outside 0–1, a date out of range or not ISO, a duration not written
as one (61秒, 3分, 30日), text too long, a value given together with `__absent`, a fact its
version does not have, a date with no version in force. A row that fails is in the output
with `error_code` and `error_message` and is not decided — the same codes as the
row-by-row path (`batch.py`). A list of records is rebuilt field by field, by name: a record
field that is no field of the list, or of the wrong kind, is a diagnostic for the file too.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from yakkan.engine.core.diagnostics import Diagnostic, YakkanError, did_you_mean
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
    Dialect,
    compile_sql,
    sql_type,
)
from yakkan.engine.semantics.program import UNDETERMINED

_INTS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER",
         "UBIGINT", "HUGEINT")
_DURATION_SQL_RE = "(?:" + _DURATION_RE.pattern.replace("0-9", "0-9０-９") + ")+"
_SPACES = r"\s+"
_ISO_DATE = "[0-9]{4}-[0-9]{2}-[0-9]{2}"  # a date given as text: ISO only, in both engines
_PARTS = ("value", "grounds", "undetermined", "missing")
Run = Callable[[str], list[tuple[Any, ...]]]  # a query → its rows (the summary's counts)


@dataclass
class _Col:
    """A column of the input as the engine reads it: its type by DuckDB's name ("STRUCT[]"
    for a list of records, whose fields are `fields`)."""

    name: str
    type: str
    fields: dict[str, _Col] | None = None


def _accepts(base: str, actual: str) -> bool:
    """Whether a Parquet column of type `actual` can hold a fact of type `base`."""
    a = actual.upper().strip('"')
    if a == "NULL":  # a column (or record field) with no value at all: every cell unknown
        return True
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


def _duck_col(name: str, t: Any) -> _Col:
    if t.id == "list" and t.children[0][1].id == "struct":
        return _Col(name, str(t), {n: _duck_col(n, ft) for n, ft in t.children[0][1].children})
    return _Col(name, str(t))


def _types(lay: Any) -> dict[str, Any]:
    """Each fact's type in the canonical layout: the newest version's, but a list of records
    has the fields of every version (each version's program reads its own; a row that gives
    a field its version does not have is a row error)."""
    out = dict(lay.facts)
    for path, t in lay.facts.items():
        if t.base != "list":
            continue
        fields = {f.name: f for f in t.fields}
        for b in reversed(lay.books):
            decl = b.facts.get(path)
            for f in decl.type.fields if decl is not None else []:
                fields.setdefault(f.name, f)
        out[path] = t.model_copy(update={"fields": list(fields.values())})
    return out


def _check_types(lay: Any, have: dict[str, _Col], input_path: str) -> None:
    """The file's columns (and the fields of its lists of records) are facts of the document
    of a kind that can hold them; else diagnostics for the whole file (exit 2)."""
    lay.check_columns(list(have), input_path)
    types = _types(lay)
    bad = []

    def kind(name: str, base: str, actual: str, t: Any) -> None:
        if not _accepts(base, actual):
            bad.append(Diagnostic(
                code="batch.column-type", message=f"{input_path}: the column {name!r} is "
                f"{actual}; {'an' if base[0] in 'aeiou' else 'a'} {base} fact needs "
                f"{sql_type(t) if t is not None else 'BOOLEAN'}",
                hint=f"`yakkan batch --template {lay.doc} FILE.parquet` writes the types"))

    for name, c in have.items():
        t = types.get(name)
        base = (t.base if t is not None else "bool" if name.endswith(ABSENT_SUFFIX) else
                "date" if name == "as_of" else None)
        if base is None:
            continue
        kind(name, base, c.type, t)
        if t is None or t.base != "list" or c.fields is None:
            continue
        known = {f.name: f.type for f in t.fields}
        names = [*known, *(n + ABSENT_SUFFIX for n, ft in known.items()
                           if ft.base in ABSENT_OK)]
        for fname, fc in c.fields.items():
            if fname not in names:
                bad.append(Diagnostic(
                    code="batch.unknown-column", message=f"{input_path}: the record field "
                    f"{fname!r} of the column {name!r} is no field of {name}",
                    hint=did_you_mean(fname, names) or "fields: " + ", ".join(names)))
            elif fname in known:
                kind(f"{name}[].{fname}", known[fname].base, fc.type, known[fname])
            else:
                kind(f"{name}[].{fname}", "bool", fc.type, None)
    if bad:
        raise YakkanError(bad)


# ---- DuckDB ---------------------------------------------------------------------------------

def native_batch(lay: Any, input_path: str, output_path: str | None, names: list[str],
                 default_as_of: dt.date, errors_path: str | None,
                 progress: bool = False) -> Summary:
    """Decide a Parquet table in DuckDB; write the output; return the batch `Summary`.
    With `progress` (a terminal), DuckDB's own progress bar shows how far each pass is."""
    import duckdb

    D = DUCKDB
    con = duckdb.connect()
    con.execute(f"SET enable_progress_bar = {'true' if progress else 'false'}").fetchall()
    # memory stays bounded: the output streams (no table, no sort), and past this limit
    # DuckDB spills what it must keep to its temporary folder instead of growing to most of
    # the machine's memory
    limit = os.environ.get("YAKKAN_BATCH_MEMORY", "1GB")
    con.execute(f"SET memory_limit = {D.string(limit)}").fetchall()
    con.execute(f"SET temp_directory = {D.string(tempfile.gettempdir() + '/yakkan-duckdb')}") \
        .fetchall()
    src = f"read_parquet({D.string(input_path)}, file_row_number = true)"
    try:
        rel = con.sql(f"SELECT * FROM {src} LIMIT 0")
        cols = [_duck_col(n, t) for n, t in zip(rel.columns, rel.types, strict=True)]
    except duckdb.Error as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise YakkanError([Diagnostic(code="batch.unreadable",
                                      message=f"cannot read {input_path} as Parquet: "
                                      f"{first[:300]}")]) from None
    have = {c.name: c for c in cols if c.name != "file_row_number"}
    _check_types(lay, have, input_path)
    con.execute(f"CREATE TEMP VIEW __v AS {_validated(lay, have, src, default_as_of, D)}")
    # the versions the rows fall under (a pass over the `as_of` column alone)
    present = {r[0] for r in con.execute("SELECT DISTINCT __version FROM __v").fetchall()
               if r[0] is not None}
    columns = [r[0] for r in con.execute("DESCRIBE SELECT * FROM __v").fetchall()]
    decided = _decided_in_order(lay, names, have, present, columns)
    if output_path is not None:  # streamed to the file as it is decided, in input order
        _copy(con, f"({decided})", output_path, format_of(output_path), names)
    if errors_path is not None:  # from the row checks alone, in input order
        _copy(con, "(SELECT __row AS row, id, __error_code AS error_code, __error_message AS "
                   "error_message FROM __v WHERE __error_code IS NOT NULL)", errors_path,
              format_of(errors_path), [])
    # the counts in one more pass over the decisions: a Parquet output read back (its
    # columns as written, without running the program twice); otherwise the program again
    # (cheaper than parsing CSV or JSON, and no table is kept)
    if output_path is not None and format_of(output_path) == "parquet":
        con.execute(f"CREATE TEMP VIEW __out AS SELECT * FROM read_parquet("
                    f"{D.string(output_path)})")
    else:
        con.execute(f"CREATE TEMP VIEW __out AS {decided}")
    return _summary(lambda q: con.execute(q).fetchall(), names, D)


def _decided_in_order(lay: Any, names: list[str], have: dict[str, _Col], present: set[str],
                      columns: list[str]) -> str:
    """SELECT of the output columns over `__v` (whose columns are `columns`) in one pipeline,
    which DuckDB writes in input order — no sort, no table. Every row goes through the
    program of each version rows fall under (`present`), one after the other, and takes the
    outputs of its own version's; a rejected row's outputs are NULL, and its facts that
    arithmetic could trip on (numbers, dates, lists) are NULL for the programs, so that no
    value a check rejected is ever computed with. (A value valid in one version is within
    the bounds every version checks, so another version's program cannot trip on it.)"""
    D = DUCKDB
    books = [b for b in lay.books if (b.doc.header.version or "") in present]
    risky = [p for p, t in _types(lay).items() if t.base not in ("bool", "enum", "text")]
    keep = ", ".join(f"CASE WHEN __error_code IS NULL THEN {D.ident(p)} END AS {D.ident(p)}"
                     for p in risky)
    rel = f"(SELECT * REPLACE ({keep}) FROM __v)" if keep else "__v"
    carried = tuple(columns)
    mine: dict[str, list[str]] = {}  # version → its outcomes (of `names`)
    for i, book in enumerate(books):
        v = book.doc.header.version or ""
        mine[v] = [o for o in names if o in _outcomes(book)]
        q = program_query(book, mine[v], D, have, rel, carried,
                          f"__version = {D.string(v)}" if len(books) > 1 else None)
        ours = [f"{o}.{p}" for o in mine[v] for p in _PARTS]
        # this version's outputs under their own names, for the programs after it
        rel = (f"(SELECT {', '.join(D.ident(c) for c in carried)}, "
               + ", ".join(f"{D.ident(c)} AS {D.ident(f'{i}:{c}')}" for c in ours)
               + f" FROM ({q}) AS __p{i})")
        carried += tuple(f"{i}:{c}" for c in ours)
    outs = []
    for o in names:
        for part in _PARTS:
            whens = " ".join(f"WHEN {D.string(v)} THEN {D.ident(f'{i}:{o}.{part}')}"
                             for i, v in enumerate(mine) if o in mine[v])
            typ = D.text if part == "value" else D.text_list()
            outs.append(f"CASE WHEN __error_code IS NULL THEN CASE __version {whens} END END "
                        f"AS {D.ident(f'{o}.{part}')}" if whens else
                        f"CAST(NULL AS {typ}) AS {D.ident(f'{o}.{part}')}")
    head = (f"__row AS row, id, __version AS version, CAST({AS_OF} AS {D.text}) AS as_of, "
            "__error_code AS error_code, __error_message AS error_message")
    return f"SELECT {', '.join([head, *outs])} FROM {rel} AS __d"


def _outcomes(book: Any) -> list[str]:
    from yakkan.engine.semantics.program import program_of
    return list(program_of(book).decisions)


def program_query(book: Any, names: list[str], D: Dialect, have: dict[str, _Col], rel: str,
                  passthrough: tuple[str, ...] = ("__row", AS_OF),
                  only: str | None = None) -> str:
    """The compiled program of `book` for the outcomes `names` over `rel` (the validated
    canonical layout of a file with the columns `have`): a fact the file has no column for
    (nor an `__absent` one) is unknown on every row and compiled as such."""
    unknown = frozenset(p for p in book.facts
                        if p not in have and p + ABSENT_SUFFIX not in have)
    return compile_sql(book, D, names, unknown).query(rel, passthrough, only)


def _decided(lay: Any, names: list[str], D: Dialect, have: dict[str, _Col],
             present: set[str] | None = None) -> str:
    """SELECT of the output columns (unordered) over the validated view `__v`: each version's
    valid rows through its compiled program (only the versions in `present`, if given), the
    rejected rows with their error."""
    parts = []
    for book in lay.books:
        v = book.doc.header.version or ""
        if present is not None and v not in present:
            continue
        mine = [o for o in names if o in _outcomes(book)]
        rel = f"(SELECT * FROM __v WHERE __version = {D.string(v)} AND __error_code IS NULL)"
        q = program_query(book, mine, D, have, rel, ("__row", "id", "__version", AS_OF))
        outs = []
        for o in names:
            for part in _PARTS:
                col = D.ident(f"{o}.{part}")
                typ = D.text if part == "value" else D.text_list()
                outs.append(f"{col}" if o in mine else f"CAST(NULL AS {typ}) AS {col}")
        parts.append(f"SELECT __row, id, __version, {AS_OF}, CAST(NULL AS {D.text}) AS "
                     f"__error_code, CAST(NULL AS {D.text}) AS __error_message, "
                     f"{', '.join(outs)} FROM ({q}) AS __d")
    err_outs = ", ".join(
        f"CAST(NULL AS {D.text if p == 'value' else D.text_list()}) AS "
        f"{D.ident(f'{o}.{p}')}" for o in names for p in _PARTS)
    parts.append(f"SELECT __row, id, __version, {AS_OF}, __error_code, __error_message"
                 f"{', ' if err_outs else ''}{err_outs} FROM __v WHERE __error_code IS NOT NULL")
    body = " UNION ALL ".join(parts)
    out_cols = ", ".join(
        ["__row AS row", "id", "__version AS version", f"CAST({AS_OF} AS {D.text}) AS as_of",
         "__error_code AS error_code", "__error_message AS error_message"]
        + [D.ident(f"{o}.{p}") for o in names for p in _PARTS])
    return f"SELECT {out_cols} FROM ({body}) AS __u"


def _copy(con: Any, rel: str, path: str, fmt: str, names: list[str]) -> None:
    D = DUCKDB
    src = rel if rel.startswith("(") else f"(SELECT * FROM {rel})"
    if fmt == "csv":  # lists as JSON arrays, as the row-by-row path writes them
        lists = {D.ident(f"{o}.{p}") for o in names for p in _PARTS[1:]}
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
        con.execute(f"COPY {src} TO {D.string(path)} ({opts})")
    except Exception as err:  # duckdb's IO errors
        raise YakkanError([Diagnostic(code="io.unwritable",
                                      message=f"cannot write `{path}`: {str(err)[:200]}",
                                      hint="check that the folder exists and that you may "
                                           "write there")]) from None


# ---- the counts, in either engine -----------------------------------------------------------

def _summary(run: Run, names: list[str], D: Dialect) -> Summary:
    """The counts of `__out`, in one pass: each row unnested into (kind, outcome, list) items
    — its error code ('' for none: every row once), whether an outcome is undetermined, each
    outcome's value, the grounds of a value against the case, the missing facts — and the
    items counted."""
    s = Summary()
    against = ", ".join(D.string(x) for x in AGAINST)
    items = [D.record([("k", D.string("n")), ("o", "''"),
                       ("xs", D.list_of(["coalesce(error_code, '')"]))])]
    if names:
        undet = " OR ".join(f"{D.ident(f'{o}.value')} = {D.string(UNDETERMINED)}"
                            for o in names)
        items.append(D.record([("k", D.string("u")), ("o", "''"), (
            "xs", f"CASE WHEN error_code IS NULL AND ({undet}) THEN {D.list_of([chr(39) * 2])} "
                  "END")]))
    for o in names:
        val, name = D.ident(f"{o}.value"), D.string(o)
        for k, xs in (("v", f"CASE WHEN {val} IS NOT NULL THEN {D.list_of([val])} END"),
                      ("g", f"CASE WHEN {val} IN ({against}) THEN "
                            f"{D.ident(f'{o}.grounds')} END"),
                      ("m", D.ident(f"{o}.missing"))):
            items.append(D.record([("k", D.string(k)), ("o", name), ("xs", xs)]))
    each = f"SELECT {D.unnest(D.list_of(items))} AS __s FROM __out"
    flat = f"SELECT __s.k AS k, __s.o AS o, {D.unnest('__s.xs')} AS x FROM ({each}) AS __e"
    rows = run(f"SELECT k, o, x, count(*) FROM ({flat}) AS __c GROUP BY k, o, x")
    order = {o: i for i, o in enumerate(["", *names])}
    for k, o, x, n in sorted(rows, key=lambda r: (r[0], order[r[1]], r[2])):
        if k == "n":
            s.rows += n
            if x:
                s.rejected += n
                s.errors[x] = n
        elif k == "u":
            s.undetermined += n
        elif k == "v":
            s.values[(o, x)] = n
        elif k == "g":
            s.grounds[(o, x)] = n
        else:
            s.missing[x] += n
    s.decided = s.rows - s.rejected - s.undetermined
    return s


# ---- validation in SQL (both dialects) ------------------------------------------------------

def _read(D: Dialect, x: str, t: Any, c: _Col) -> str:
    """The canonical value of the fact `t` from the column `x` as the file has it (`c`): a
    cast (NULL when it cannot be read); a date given as text only in ISO form; a list of
    records rebuilt by field name (a field the file lacks is unknown)."""
    if t.base == "list":
        assert c.fields is not None
        parts: list[tuple[str, str]] = []
        for f in t.fields:
            sub = c.fields.get(f.name)
            parts.append((f.name, _read(D, f"__r.{D.ident(f.name)}", f.type, sub) if sub
                          else f"CAST(NULL AS {sql_type(f.type, D)})"))
            if f.type.base in ABSENT_OK:
                ab = f.name + ABSENT_SUFFIX
                parts.append((ab, f"__r.{D.ident(ab)}" if ab in c.fields
                              else "CAST(NULL AS BOOLEAN)"))
        return f"{D.transform}({x}, {D.lam('__r', D.record(parts))})"
    if t.base == "date" and c.type.upper() == "VARCHAR":
        return f"CASE WHEN {D.full_match(f'trim({x})', _ISO_DATE)} THEN " \
               f"TRY_CAST(trim({x}) AS DATE) END"
    return f"TRY_CAST({x} AS {sql_type(t, D)})"


def _validated(lay: Any, have: dict[str, _Col], src: str, default_as_of: dt.date,
               D: Dialect) -> str:
    """SELECT of the canonical layout with `__row`, `id`, `__as_of`, `__version`,
    `__error_code` and `__error_message`; every check reads the column as the file has it.
    `src` has the file's columns and `file_row_number` (0 for the first row)."""
    ident, lit = D.ident, D.string
    default = f"DATE {lit(default_as_of.isoformat())}"
    if "as_of" in have:
        a = ident("as_of")
        read = _read(D, a, _DATE, have["as_of"])
        as_of = f"coalesce({read}, CASE WHEN {a} IS NULL THEN {default} END)"
        bad_date = f"({a} IS NOT NULL AND {read} IS NULL)"
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
        cond = [f"{AS_OF} >= DATE {lit(h.effective_from.isoformat())}"]
        if h.effective_until:
            cond.append(f"{AS_OF} <= DATE {lit(h.effective_until.isoformat())}")
        cases.append(f"WHEN {' AND '.join(cond)} THEN {lit(h.version or '')}")
    version = f"CASE {' '.join(cases)} END" if cases else f"CAST(NULL AS {D.text})"
    l2 = f"SELECT *, {version} AS __version FROM ({l1}) AS __l1"
    sel = ["__row", f"CAST({ident('id')} AS {D.text}) AS id" if "id" in have else
           f"CAST(NULL AS {D.text}) AS id", AS_OF, "__version", "__bad_date"]
    checks: list[tuple[str, str]] = []  # (condition of an error, message)
    types = _types(lay)
    for path, t in types.items():
        c = have.get(path)
        if c is None:
            sel.append(f"CAST(NULL AS {sql_type(t, D)}) AS {ident(path)}")
        else:
            sel.append(f"{_read(D, ident(path), t, c)} AS {ident(path)}")
            checks += _version_checks(lay, D, path, ident(path), t, c)
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
                checks.append((f"(__version = {lit(v)} AND {ident(path)} IS NOT NULL)",
                               f"{path}: no fact of {lay.doc} {v}"))
            elif path in have and types[path].base == "list":  # record fields it lacks
                mine = {f.name for f in book.facts[path].type.fields}
                fields = have[path].fields or {}
                for f in types[path].fields:
                    if f.name not in mine and f.name in fields:
                        given = D.any_of(ident(path), "__r",
                                         f"__r.{ident(f.name)} IS NOT NULL")
                        checks.append((f"(__version = {lit(v)} AND {given})",
                                       f"{path}[].{f.name}: no field of {path} in {lay.doc} "
                                       f"{v}"))
    msgs = ", ".join(f"CASE WHEN {cond} THEN {lit(m)} END" for cond, m in checks)
    # the message is put together only for a row that fails a check (a CASE evaluates its
    # branch for the rows that take it): a valid row costs the conditions alone
    any_bad = " OR ".join(cond for cond, _m in checks)
    err_msg = f"CASE WHEN {any_bad} THEN NULLIF(concat_ws('; ', {msgs}), '') END" if checks \
        else f"CAST(NULL AS {D.text})"
    l3 = f"SELECT {', '.join(sel)}, {err_msg} AS __fact_error FROM ({l2}) AS __l2"
    code = ("CASE WHEN __bad_date THEN 'batch.bad-date' "
            "WHEN __version IS NULL THEN 'eval.no-version-in-force' "
            "WHEN __fact_error IS NOT NULL THEN 'case.invalid-fact' END")
    message = ("CASE WHEN __bad_date THEN 'as_of: not a date (write it as a DATE column or "
               "ISO text)' WHEN __version IS NULL THEN " +
               lit(f"no version of {lay.doc} is in force on ") +
               f" || CAST({AS_OF} AS {D.text}) WHEN __fact_error IS NOT NULL THEN __fact_error "
               "END")
    return f"SELECT *, {code} AS __error_code, {message} AS __error_message FROM ({l3}) AS __l3"


@dataclass
class _DateType:
    base: str = "date"


_DATE = _DateType()


def _version_checks(lay: Any, D: Dialect, path: str, x: str, t: Any, c: _Col) -> \
        list[tuple[str, str]]:
    """The value checks of one fact: the layout's type's, or — where versions declare the
    fact with different ranges or patterns — each version's own, for its rows."""
    mine = {b.doc.header.version or "": b.facts[path].type for b in lay.books
            if path in b.facts}
    if all(y == t for y in mine.values()) or any(y.base != t.base for y in mine.values()):
        return _value_checks(D, path, x, t, c)
    return [(f"(__version = {D.string(ver)} AND {cond})", msg)
            for ver, y in mine.items() for cond, msg in _value_checks(D, path, x, y, c)]


def _value_checks(D: Dialect, path: str, x: str, t: Any, c: _Col) -> list[tuple[str, str]]:
    """Row errors for one fact's value as the file has it (`x`, of the column `c`), as the
    case model would raise them. Messages name types as DuckDB does, whatever the engine."""
    b = t.base
    if b == "list":
        assert c.fields is not None
        out: list[tuple[str, str]] = []
        for f in t.fields:
            sub = c.fields.get(f.name)
            if sub is None:
                continue
            fx = f"__r.{D.ident(f.name)}"
            for cond, msg in _value_checks(D, f"{path}[].{f.name}", fx, f.type, sub):
                out.append((D.any_of(x, "__r", cond), msg))
        return out
    v = _read(D, x, t, c)
    what = "not a date (ISO text or a DATE column)" if b == "date" else \
        f"cannot be read as {sql_type(t)}"
    # (a column of the fact's own type is read as it is: nothing to fail)
    same = c.type.upper().strip('"') == sql_type(t).upper()
    out = [] if same else [(f"({x} IS NOT NULL AND {v} IS NULL)", f"{path}: {what}")]
    k = t.constraint
    if k is not None and k.pattern is not None:
        out.append((f"(NOT {D.full_match(v, k.pattern)})",
                    f"{path}: does not match {k.describe()}"))
    elif k is not None:  # a declared range (its lower bound replaces "0 or more")
        lo, hi = t.value_bounds()
        assert lo is not None  # a range has a lower bound
        outside = [f"{v} < {lo:f}"] + ([f"{v} > {hi:f}"] if hi is not None else [])
        out.append((f"({' OR '.join(outside)})", f"{path}: outside {k.describe()}"))
    if b == "int":
        if k is None:
            out.append((f"({v} < 0)", f"{path}: expected a count (0 or more)"))
        out.append((f"(abs({v}) > {MAX_INT})", f"{path}: too large (at most {MAX_INT:,})"))
    elif b == "money":
        if k is None:
            out.append((f"({v} < 0)", f"{path}: expected an amount (0 or more)"))
        out.append((f"(abs({v}) > {MAX_AMOUNT})", f"{path}: too large"))
    elif b == "decimal":
        out.append((f"(abs({v}) > {MAX_AMOUNT})", f"{path}: too large"))
    elif b == "percent":
        out.append((f"(CAST({v} AS {DECIMAL}) < 0 OR CAST({v} AS {DECIMAL}) > 100)",
                    f"{path}: a percentage out of range"))
    elif b == "date":
        out.append((f"({v} < DATE {D.string(DATE_MIN.isoformat())} OR "
                    f"{v} > DATE {D.string(DATE_MAX.isoformat())})", f"{path}: date out of range"))
    elif b == "text":
        out.append((f"(length({v}) > {MAX_TEXT})", f"{path}: text too long"))
        if t.ident in IDENTIFIERS:  # as `core/textnorm.canonical_id` reads it
            ident = IDENTIFIERS[t.ident]
            src, dst = "０１２３４５６７８９‐‑‒–—―−－ｰ﹣", "0123456789----------"
            y = f"trim(translate({v}, {D.string(src)}, {D.string(dst)}))"
            out.append((f"(NOT {D.full_match(y, '[0-9]+(-[0-9]+)*')} OR "
                        f"length(replace({y}, '-', '')) <> {ident.digits})",
                        f"{path}: not {ident.describe()}"))
    elif b == "enum":
        members = ", ".join(D.string(m.name) for m in t.members)
        if members:
            out.append((f"({v} NOT IN ({members}))",
                        f"{path}: not one of " + ", ".join(m.name for m in t.members)))
    elif b == "duration":
        out.append((f"(NOT {D.full_match(D.remove_all(v, _SPACES), _DURATION_SQL_RE)})",
                    f"{path}: not a duration such as 61秒, 3分 or 30日"))
    return out
