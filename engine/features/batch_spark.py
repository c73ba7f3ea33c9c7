"""batch_spark: `yakkan batch --engine spark` — a table as Spark users have it (one file, a
folder of part files, or a glob) read by Spark, validated and decided on the executors, and
written by Spark in row order. Nothing reaches the driver but the summary's counts (and a
CSV's header line per file).

**Input**: a Parquet, JSON Lines or CSV file; a folder of such files (the format from the
files in it — `part-00000-….parquet`, `_SUCCESS` and hidden files left aside — or from the
folder's own name, `cases.parquet/`); a glob (`cases/*.parquet`, `s3a://bucket/cases/*.csv`).
Rows are numbered by their place in the input: the files in name order, one after another.
A row number is the line number (JSON Lines), the record number plus one (CSV: the header
is line 1), or the row's place (Parquet) for a single file, as in the other paths.

* **Parquet**: `spark.read.parquet` (the files' schemas merged: a column some files lack is
  unknown in their rows), the row checks and the program in Spark SQL — the builders DuckDB's
  path uses (`batch_native`), so both give the same answers and messages.
* **JSON Lines and CSV**: read by Spark (JSON Lines line by line; CSV record by record by
  Spark's CSV reader, a quoted cell may hold line breaks), then each row is validated *on the
  executors* by the functions the row-by-row path runs (`batch.jsonl_row`, `batch.csv_row`,
  `batch.validate`: the case model, the same codes and messages), and decided in Spark SQL.
  A column that is no fact of the document is a diagnostic for the whole file (exit 2), as
  in the other paths. Two things Spark's readers decide that the Python path decides
  otherwise, said here and in the README: invalid UTF-8 is read by Spark as U+FFFD, so a
  U+FFFD in the input is taken for it (io.not-utf8, exit 2, as the other paths); and of the
  cells beyond a CSV header, Spark keeps the first `EXTRA_CELLS` — a row with a value in one
  of them is rejected (batch.malformed-row) as in the other paths, the ones after are not
  seen. CSV records end at \n (a \r before it cut off the last cell), so that \n, \r\n
  and both in one file read as `csv` reads them; lines that end in \r alone are exit 2.
  The executors need yakkan installed (a local session uses this interpreter).

The validated rows, and then the decided ones, are checkpointed on the executors: the plan
that follows starts from them (Spark would otherwise plan the checks, and the whole program,
again inside every query that reads them — too large to plan at all).
"""

from __future__ import annotations

import datetime as dt
import functools
import glob as globmod
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from yakkan.engine.core.diagnostics import Diagnostic, YakkanError
from yakkan.engine.features.batch_native import (
    _PARTS,
    _check_types,
    _Col,
    _decided,
    _summary,
    _types,
    _validated,
)
from yakkan.engine.features.tables import Summary, format_of
from yakkan.engine.runtime.case import ABSENT_OK
from yakkan.engine.runtime.sql import ABSENT_SUFFIX, AS_OF, SPARK

EXTRA_CELLS = 16  # cells beyond a CSV header that Spark's reader keeps (module docstring)
_GLOB = set("*?[{")

_SPARK_NAMES = {"boolean": "BOOLEAN", "tinyint": "TINYINT", "smallint": "SMALLINT",
                "int": "INTEGER", "bigint": "BIGINT", "date": "DATE", "string": "VARCHAR",
                "double": "DOUBLE", "float": "FLOAT", "timestamp": "TIMESTAMP", "void": "NULL"}


def _spark_col(name: str, t: Any) -> _Col:
    from pyspark.sql.types import ArrayType, StructType
    if isinstance(t, ArrayType) and isinstance(t.elementType, StructType):
        return _Col(name, "STRUCT[]", {f.name: _spark_col(f.name, f.dataType)
                                      for f in t.elementType.fields})
    s = t.simpleString()
    if s.startswith("decimal"):
        return _Col(name, "DECIMAL" + s[len("decimal"):].upper())
    return _Col(name, _SPARK_NAMES.get(s, s.upper()))


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:300] if text else type(err).__name__


# ---- the input --------------------------------------------------------------------------------

def spark_input(path: str) -> str:
    """The format of a Spark input — a file, a folder of files, a glob — or a diagnostic
    (exit 2). Remote paths (`s3a://…`, `hdfs://…`) are left to Spark to open."""
    remote = "://" in path and not path.startswith("file://")
    if _GLOB & set(path):
        fmt = format_of(path.rstrip("/*"))  # by the pattern's suffix: cases/*.parquet
        if not remote and "{" not in path and not globmod.glob(path, recursive=True):
            raise YakkanError([Diagnostic(code="io.missing-file",
                                          message=f"no file matches `{path}`",
                                          hint="check the pattern (quote it in the shell)")])
        return fmt
    p = Path(path.removeprefix("file://"))
    if remote or not p.is_dir():
        if not remote:
            from yakkan.engine.features.batch import check_input
            check_input(str(p))
        return format_of(path)
    found: set[str] = set()
    for f in sorted(p.rglob("*")):
        if f.is_file() and not any(x.startswith(("_", ".")) for x in f.relative_to(p).parts):
            try:
                found.add(format_of(f.name))
            except YakkanError:
                continue  # not a table (a README, a checksum): Spark reads by format anyway
    if len(found) == 1:
        return found.pop()
    if not found:
        try:
            return format_of(p.name)  # an empty folder named for its format
        except YakkanError:
            pass
    what = "files of several formats (" + ", ".join(sorted(found)) + ")" if found else \
        "no .parquet, .csv or .jsonl file"
    raise YakkanError([Diagnostic(code="batch.format",
                                  message=f"the folder `{path}` holds {what}",
                                  hint="give a glob for one of them: "
                                       f"{path.rstrip('/')}/*.parquet")])


def _numbered(spark: Any, df: Any, keys: list[str], first: int) -> Any:
    """`df` (with the columns `__f` (file) and `__b` (the start of its split) and `__id`, a
    number increasing in file order within a split) with `__row`, the row's place in the
    input (files in name order), and `__line`, its place in its file, both from `first`.
    One pass counts the rows of each split; the numbers are then laid out on the driver
    (one entry per split) and joined back."""
    from pyspark.sql import functions as F
    counts = sorted(df.groupBy("__f", "__b").agg(F.count("*").alias("n"),
                                                  F.min("__id").alias("m")).collect(),
                    key=lambda r: (r["__f"], r["__b"]))
    offsets, at, in_file, last = [], 0, 0, None
    for r in counts:
        if r["__f"] != last:
            in_file, last = 0, r["__f"]
        offsets.append((r["__f"], r["__b"], r["m"], at, in_file))
        at += r["n"]
        in_file += r["n"]
    if not offsets:
        return df.selectExpr(*keys, "CAST(NULL AS BIGINT) AS __row",
                             "CAST(NULL AS BIGINT) AS __line", "__f")
    table = spark.createDataFrame(offsets, "__f string, __b bigint, __m bigint, __at bigint, "
                                           "__in bigint")
    return df.join(F.broadcast(table), ["__f", "__b"]).selectExpr(
        *keys, f"__at + (__id - __m) + {first} AS __row",
        f"__in + (__id - __m) + {first} AS __line", "__f")


# ---- Parquet ----------------------------------------------------------------------------------

def _parquet_source(spark: Any, lay: Any, input_path: str) -> dict[str, _Col]:
    """The view `__src` of a Parquet input (its columns and `file_row_number`, the row's place
    in the input from 0); the file's columns checked (exit 2)."""
    try:
        df = spark.read.option("mergeSchema", True).parquet(input_path)
        cols = [_spark_col(f.name, f.dataType) for f in df.schema.fields]
    except Exception as err:  # AnalysisException, Py4J errors: not a readable Parquet file
        raise YakkanError([Diagnostic(code="batch.unreadable",
                                      message=f"cannot read {input_path} as Parquet: "
                                      f"{_first_line(err)}")]) from None
    have = {c.name: c for c in cols}
    _check_types(lay, have, input_path)
    names = [SPARK.ident(c) for c in df.columns]
    meta = df.selectExpr(*names, "_metadata.file_path AS __f", "0 AS __b",
                         "_metadata.row_index AS __id")
    if len(df.inputFiles()) == 1:  # one file: its row index is the row's place
        src = meta.selectExpr(*names, "__id AS file_row_number")
    else:
        src = _numbered(spark, meta, names, 0).selectExpr(*names, "__row AS file_row_number")
    src.createOrReplaceTempView("__src")
    return have


# ---- JSON Lines and CSV -----------------------------------------------------------------------

def _text_validated(spark: Any, lay: Any, input_path: str, fmt: str,
                    default_as_of: dt.date) -> Any:
    """The validated rows of a JSON Lines or CSV input (the columns `_validated` gives for
    Parquet, `__error_*` as the row-by-row path words them), checkpointed; a column that is
    no fact, or a file that is not UTF-8, is a diagnostic for the whole input (exit 2)."""
    from pyspark.sql.pandas.types import from_arrow_schema
    try:
        if fmt == "jsonl":  # the lines as bytes: decoded (strictly) on the executors
            df = spark.read.text(input_path).selectExpr("CAST(value AS BINARY) AS value")
            cells = ["value"]
            first = 1  # line numbers
        else:
            header = _csv_reader(spark).option("header", True).csv(input_path).columns
            width = len(header) + EXTRA_CELLS
            df = _csv_reader(spark).schema(", ".join(f"c{i} string" for i in range(width))) \
                .option("header", False).csv(input_path)
            cells = [f"c{i}" for i in range(width)]
            first = 1  # the header is record 1
        lines = df.selectExpr(*cells, "_metadata.file_path AS __f",
                              "_metadata.file_block_start AS __b",
                              "monotonically_increasing_id() AS __id").localCheckpoint()
        numbered = _numbered(spark, lines, cells, first).localCheckpoint()
        lines.unpersist()
    except YakkanError:
        raise
    except Exception as err:
        raise YakkanError([Diagnostic(code="batch.unreadable",
                                      message=f"cannot read {input_path} as "
                                      f"{'JSON Lines' if fmt == 'jsonl' else 'CSV'}: "
                                      f"{_first_line(err)}")]) from None
    headers: dict[str, list[str]] = {}
    if fmt == "csv":
        for r in numbered.where("__line = 1").collect():
            cut = _record([r[c] for c in cells])
            while cut and cut[-1] is None:
                cut.pop()
            header = ["" if c is None else c for c in cut]
            if any("\r" in c for c in header):  # lines that end in \r alone: one record
                raise YakkanError([Diagnostic(
                    code="batch.unreadable", message=f"{_shown(r['__f'])}: its lines end "
                    "with \\r alone, which Spark's CSV reader does not take for line ends",
                    hint="save it with \\n or \\r\\n line ends, or use --engine duckdb")])
            headers[r["__f"]] = header
            lay.check_columns(header, _shown(r["__f"]))
    rows = numbered.where("__line > 1") if fmt == "csv" else numbered
    schema = _arrow_schema(lay)
    fn = functools.partial(_validate_batches, lay.doc, fmt, default_as_of, headers, schema)
    valid = rows.mapInArrow(fn, from_arrow_schema(schema)).localCheckpoint()
    numbered.unpersist()  # (the checkpointed lines are freed with it)
    problems = valid.where("__file_error IS NOT NULL").orderBy("__row") \
        .select("__file_error").limit(1).collect()
    if problems:
        valid.unpersist()
        code, _, message = problems[0][0].partition(" ")
        raise YakkanError([Diagnostic(code=code, message=message, hint=_HINTS.get(code))])
    return valid.drop("__file_error")


_HINTS = {"io.not-utf8": "save the table as UTF-8 (Spark reads other bytes as U+FFFD)"}


def _csv_reader(spark: Any) -> Any:
    """Spark's CSV reader as the `csv` module reads a file: RFC 4180 quotes (a quote in a
    quoted cell doubled), a quoted cell may span lines, cells read as text."""
    return (spark.read.option("multiLine", True).option("quote", '"').option("escape", '"')
            .option("mode", "PERMISSIVE").option("encoding", "UTF-8")
            # records end at \n (a \r before it is cut off the last cell: `_record`), so
            # that \n, \r\n and both in one file read as `csv` reads them (Spark would
            # otherwise take the first line's ending for all, and join records at others)
            .option("lineSep", "\n"))


def _record(cells: list[str | None]) -> list[str | None]:
    """A CSV record's cells as `csv` reads them: the \r of a \r\n line end cut off the
    last cell (so a last cell that ends in \r inside its quotes loses it too)."""
    cells = list(cells)
    last = max((i for i, c in enumerate(cells) if c is not None), default=None)
    end = cells[last] if last is not None else None
    if last is not None and end is not None and end.endswith("\r"):
        cells[last] = end[:-1]
    return cells


def _shown(uri: str) -> str:
    return uri.removeprefix("file://").removeprefix("file:")


def _arrow_schema(lay: Any) -> Any:
    """The validated rows' columns: the canonical layout (every version's fields of a list)
    with the row's place, id, date, version and error, and `__file_error` (a problem of the
    whole input found on an executor)."""
    import pyarrow as pa

    from yakkan.engine.features.batch import arrow_type
    fields = [pa.field("__row", pa.int64()), pa.field("id", pa.string()),
              pa.field(AS_OF, pa.date32()), pa.field("__version", pa.string()),
              pa.field("__error_code", pa.string()), pa.field("__error_message", pa.string()),
              pa.field("__file_error", pa.string())]
    for path, t in _types(lay).items():
        fields.append(pa.field(path, arrow_type(t)))
        if t.base in ABSENT_OK:
            fields.append(pa.field(path + ABSENT_SUFFIX, pa.bool_()))
    return pa.schema(fields)


@functools.cache
def _layout(doc: str) -> Any:
    from yakkan.engine.features.batch import Layout
    return Layout.of(doc)


def _validate_batches(doc: str, fmt: str, default_as_of: dt.date,
                      headers: dict[str, list[str]], schema: Any,
                      batches: Iterator[Any]) -> Iterator[Any]:
    """On an executor: each input row validated as the row-by-row path validates it."""
    import pyarrow as pa
    lay = _layout(doc)
    for batch in batches:
        recs = [_validate_one(lay, fmt, default_as_of, headers, x)
                for x in batch.to_pylist()]
        recs = [r for r in recs if r is not None]
        yield pa.RecordBatch.from_pylist(recs, schema=schema)


def _validate_one(lay: Any, fmt: str, default_as_of: dt.date, headers: dict[str, list[str]],
                  x: dict[str, Any]) -> dict[str, Any] | None:
    from yakkan.engine.features.batch import canonical_row, csv_row, jsonl_row, validate
    n, where = x["__line"], _shown(x["__f"])
    cells = [v for k, v in x.items() if not k.startswith("__")]  # the line, or the cells
    if fmt == "csv":
        cells = _record(cells)
    try:
        if fmt == "jsonl":
            line = x["value"].decode("utf-8")
        elif any(c is not None and "\ufffd" in c for c in cells):
            raise UnicodeDecodeError("utf-8", b"", 0, 0, "U+FFFD")  # Spark's reading of it
    except UnicodeDecodeError:
        return {"__row": x["__row"], "__file_error": f"io.not-utf8 {where}: not UTF-8 text "
                f"(line {n})"}
    try:
        if fmt == "jsonl":
            row = jsonl_row(n, line, lay, where)
            if row is None:
                return None  # a blank line: no row, as in the other paths
        else:
            header = headers[x["__f"]]
            rec: dict[Any, Any] = dict(zip(header, cells, strict=False))
            extra = [c for c in cells[len(header):] if c]
            if extra:  # (a cell beyond the header that holds nothing holds no value)
                rec[None] = extra
            row = csv_row(n, rec, lay)
    except YakkanError as err:  # a column that is no fact: a diagnostic for the file
        d = err.diagnostics[0]
        return {"__row": x["__row"], "__file_error": f"{d.code} {d.message}"}
    row.row = x["__row"]
    book, row = validate(row, lay, default_as_of)
    out: dict[str, Any] = {
        "__row": row.row, "id": None if row.id is None else str(row.id), AS_OF: row.as_of,
        "__version": book.doc.header.version if book else None,
        "__error_code": row.error[0] if row.error else None,
        "__error_message": row.error[1] if row.error else None}
    if book is not None:
        out.update(canonical_row(row.raw, book))
    return out


# ---- the run ----------------------------------------------------------------------------------

def spark_native_batch(spark: Any, lay: Any, input_path: str, output_path: str | None,
                       names: list[str], default_as_of: dt.date,
                       errors_path: str | None) -> Summary:
    """Decide a table in Spark: the output (and the errors table) is a Spark output folder
    at the path given, its part files in row order; only the summary's counts reach the
    driver."""
    D = SPARK
    fmt = spark_input(input_path)
    if fmt == "parquet":
        have = _parquet_source(spark, lay, input_path)
        valid = spark.sql(_validated(lay, have, "__src", default_as_of, D)).localCheckpoint()
    else:
        valid = _text_validated(spark, lay, input_path, fmt, default_as_of)
        have = {c: _Col(c, "") for c in lay.columns()}  # every column (unknown where empty)
    valid.createOrReplaceTempView("__v")
    # Spark plans each version's program at some cost: only the versions rows fall under
    present = {r[0] for r in spark.sql("SELECT DISTINCT __version FROM __v WHERE "
                                       "__error_code IS NULL").collect()}
    out = spark.sql(_decided(lay, names, D, have, present)).localCheckpoint()
    try:
        out.createOrReplaceTempView("__out")
        if output_path is not None:
            _spark_write(out, output_path, format_of(output_path), names)
        if errors_path is not None:
            _spark_write(out.where("error_code IS NOT NULL")
                         .select("row", "id", "error_code", "error_message"),
                         errors_path, format_of(errors_path), [])
        return _summary(lambda q: [tuple(r) for r in spark.sql(q).collect()], names, D)
    finally:
        out.unpersist()
        valid.unpersist()  # checkpointed blocks are freed with them


def _spark_write(df: Any, path: str, fmt: str, names: list[str]) -> None:
    from pyspark.sql import functions as F
    df = df.orderBy("row")
    if fmt == "csv":  # lists as JSON arrays, as the other paths write them
        lists = {f"{o}.{p}" for o in names for p in _PARTS[1:]}
        df = df.select([F.to_json(F.col(SPARK.ident(c))).alias(c) if c in lists
                        else F.col(SPARK.ident(c)) for c in df.columns])
    w = df.write.mode("overwrite")
    try:
        if fmt == "csv":
            w.option("header", True).csv(path)
        elif fmt == "jsonl":
            w.option("ignoreNullFields", False).json(path)
        else:
            w.parquet(path)
    except Exception as err:  # Spark's IO errors
        raise YakkanError([Diagnostic(code="io.unwritable",
                                      message=f"cannot write `{path}`: {_first_line(err)[:200]}",
                                      hint="check that the folder exists and that you may "
                                           "write there")]) from None

