"""batch: one decision per row of a table, at portfolio scale.

**Input layout** (`yakkan batch --template DOC` writes an empty table of it):

* one row per case; one column per fact path (`applicant.duns_issued`); a list fact (the
  registered `lines`, the `calls`) is one column holding a list of records;
* optional columns `id` (carried to the output) and `as_of` (the evaluation date of the
  row; rows may fall under different versions — else `--as-of`, else today);
* **unknown** is an empty cell: NULL in Parquet, an empty field in CSV, a key left out in
  JSON Lines;
* **observed absence** (a line never removed, a contract not terminated — `null` in a case
  file) is `null` in JSON Lines exactly as in a case file; in Parquet and CSV, where an
  empty cell already means unknown, it is the boolean companion column `<path>__absent`
  (a record field: the field `<name>__absent`);
* CSV cells hold what a case file holds (`true`, `2023-04-17`, `令和5年4月17日`, `61秒`,
  `5%`); a list fact in CSV is a JSON array in its cell.

JSON Lines and CSV rows are validated one by one by the same case model as a case file
(same messages); Parquet columns are typed, so they are checked in SQL (type, enum member,
value with absence). A row that fails is never dropped and never decided: it is in the
output with `error_code` and `error_message`. A column that is no fact of any version is
a diagnostic for the whole file (exit 2), with the nearest fact name.

**Output**: one row per input row, in input order — `row`, `id`, `version`, `as_of`,
`error_code`, `error_message`, then for every outcome `<name>.value`, `<name>.grounds`
(citations of the applying grounds), `<name>.undetermined` (citations of the grounds still
unknown), `<name>.missing` (fact paths that could settle it). Parquet keeps the lists;
CSV holds them as JSON arrays; JSON Lines as arrays.

Engines: `duckdb` (default, embedded) runs the SQL the decision program compiles to
(`runtime/sql.py`); `python` runs the compiled Python backend (`runtime/compiled.py`) row
by row. Both read and write in chunks, so memory stays bounded by the chunk size.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from yakkan.engine.core.diagnostics import Diagnostic, YakkanError, did_you_mean
from yakkan.engine.core.numerals import parse_date
from yakkan.engine.core.periods import Duration
from yakkan.engine.core.values import ABSENT
from yakkan.engine.features.tables import Summary, format_of
from yakkan.engine.runtime.case import ABSENT_OK, facts_dict, facts_model
from yakkan.engine.runtime.compiled import compiled_of
from yakkan.engine.runtime.ops import fact_at
from yakkan.engine.runtime.sql import (
    ABSENT_SUFFIX,
    AS_OF,
    DUCKDB,
    SPARK,
    compile_sql,
    sql_type,
)
from yakkan.engine.semantics.resolve import Rulebook
from yakkan.engine.semantics.rulebooks import rulebook_for, versions
from yakkan.engine.syntax.load import check_readable, select_version

CHUNK = 50_000
ENGINES = ("duckdb", "python", "spark")


def spark_session() -> Any:
    """The Spark session `--engine spark` runs on: the active one (a cluster's, when yakkan
    runs inside a Spark job), else a local one. Needs `pip install 'yakkan[spark]'` and Java."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise YakkanError([Diagnostic(
            code="batch.no-spark", message="--engine spark needs pyspark",
            hint="pip install 'yakkan[spark]' (and a Java 17 runtime)")]) from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    # the local executors run this interpreter (yakkan validates JSON Lines and CSV rows
    # there), not whichever `python3` comes first on the PATH
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (SparkSession.builder.master("local[*]").appName("yakkan")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.shuffle.partitions", "8")  # local: not 200 tiny tasks
             .config("spark.sql.ansi.enabled", "false")
             .config("spark.sql.legacy.sizeOfNull", "false")
             .config("spark.sql.session.timeZone", "UTC").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


# ---- the layout ---------------------------------------------------------------------------

@dataclass
class Layout:
    """The columns a document's batch input may have: every fact of every version."""

    doc: str
    books: list[Rulebook]
    facts: dict[str, Any] = field(default_factory=dict)  # path → YType (newest version's)

    @staticmethod
    def of(doc: str) -> Layout:
        books = versions(doc)
        lay = Layout(doc, books)
        for b in books:
            for path, decl in b.facts.items():
                lay.facts[path] = decl.type
        return lay

    def columns(self) -> list[str]:
        out = ["id", "as_of"]
        for path, t in self.facts.items():
            out.append(path)
            if t.base in ABSENT_OK:
                out.append(path + ABSENT_SUFFIX)
        return out

    def check_columns(self, names: list[str], where: str) -> None:
        known = set(self.columns())
        bad = [n for n in names if n not in known]
        if bad:
            raise YakkanError([Diagnostic(
                code="batch.unknown-column", message=f"{where}: the column {n!r} is no fact "
                f"of {self.doc}", hint=did_you_mean(n, sorted(known)) or
                f"`yakkan batch --template {self.doc}` lists the columns") for n in bad])

    def arrow_schema(self, book: Rulebook | None = None) -> Any:
        import pyarrow as pa
        facts = book.facts if book is not None else None
        fields = [pa.field("__row", pa.int64()), pa.field(AS_OF, pa.date32())]
        for path, t in self.facts.items():
            if facts is not None and path not in facts:
                continue
            fields.append(pa.field(path, arrow_type(t)))
            if t.base in ABSENT_OK:
                fields.append(pa.field(path + ABSENT_SUFFIX, pa.bool_()))
        return pa.schema(fields)


def arrow_type(t: Any) -> Any:
    import pyarrow as pa
    b = t.base
    if b == "bool":
        return pa.bool_()
    if b == "int":
        return pa.int64()
    if b in ("decimal", "money", "percent"):
        return pa.decimal128(38, 10)
    if b == "date":
        return pa.date32()
    if b in ("text", "enum", "duration"):
        return pa.string()
    fields = []
    for f in t.fields:
        fields.append(pa.field(f.name, arrow_type(f.type)))
        if f.type.base in ABSENT_OK:
            fields.append(pa.field(f.name + ABSENT_SUFFIX, pa.bool_()))
    return pa.list_(pa.struct(fields))


def _cell(v: Any, t: Any) -> tuple[Any, bool | None]:
    """A fact value as a canonical cell: (value, absent flag)."""
    if v is None:
        return None, None
    if v is ABSENT:
        return None, True
    if t.base == "duration" and isinstance(v, Duration):
        return str(v), None
    if t.base == "list":
        recs = []
        for r in v:
            rec: dict[str, Any] = {}
            for f in t.fields:
                fv, fa = _cell(r.get(f.name), f.type)
                rec[f.name] = fv
                if f.type.base in ABSENT_OK:
                    rec[f.name + ABSENT_SUFFIX] = fa
            recs.append(rec)
        return recs, None
    return v, None


def canonical_row(facts: dict[str, Any], book: Rulebook) -> dict[str, Any]:
    """A case's facts (as `runtime/case.facts_dict` gives them) as one canonical row."""
    out: dict[str, Any] = {}
    for path, decl in book.facts.items():
        v, a = _cell(fact_at(facts, decl.path), decl.type)
        out[path] = v
        if decl.type.base in ABSENT_OK:
            out[path + ABSENT_SUFFIX] = a
    return out


def facts_of_row(row: dict[str, Any], book: Rulebook) -> dict[str, Any]:
    """The inverse of `canonical_row` (for the Python engine)."""
    facts: dict[str, Any] = {}
    for path, decl in book.facts.items():
        v = _value(row.get(path), row.get(path + ABSENT_SUFFIX), decl.type)
        if v is None:
            continue
        node = facts
        for p in decl.path[:-1]:
            node = node.setdefault(p, {})
        node[decl.path[-1]] = v
    return facts


def _value(v: Any, absent: Any, t: Any) -> Any:
    if absent:
        return ABSENT
    if v is None:
        return None
    if t.base == "list":
        out = []
        for r in v:
            rec = {}
            for f in t.fields:
                fv = _value(r.get(f.name), r.get(f.name + ABSENT_SUFFIX), f.type)
                if fv is not None:
                    rec[f.name] = fv
            out.append(rec)
        return out
    if t.base == "duration":
        from yakkan.engine.core.periods import parse_duration
        return parse_duration(v)
    if t.base in ("decimal", "money", "percent") and isinstance(v, Decimal):
        return v.normalize() if v == v.to_integral_value() else v
    return v


# ---- reading --------------------------------------------------------------------------------

@dataclass
class Row:
    """One input row: where it was, its id and date, and either its facts or an error."""

    row: int
    id: Any
    as_of: dt.date | None
    raw: dict[str, Any]
    error: tuple[str, str] | None = None


def check_input(path: str) -> None:
    """An input table that can be opened, or the diagnostic every command gives (exit 2)."""
    check_readable(Path(path), path)


def read_rows(path: str, lay: Layout) -> Iterator[Row]:
    fmt = format_of(path)
    try:
        if fmt == "jsonl":
            yield from _jsonl(path, lay)
        elif fmt == "csv":
            yield from _csv(path, lay)
        else:
            yield from _parquet(path, lay)
    except UnicodeDecodeError as err:
        raise YakkanError([Diagnostic(
            code="io.not-utf8", message=f"{path}: not UTF-8 text (byte {err.start})",
            hint="save the table as UTF-8")]) from None
    except OSError as err:
        raise YakkanError([Diagnostic(
            code="io.unreadable", message=f"cannot read `{path}`: {err.strerror or err}")]) \
            from None


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    """Column values → the nested `facts` of a case file (`null` stays: absence)."""
    facts: dict[str, Any] = {}
    for k, v in flat.items():
        if k.endswith(ABSENT_SUFFIX):
            if v in (True, "true", "TRUE", "True", 1, "1"):
                k, v = k[: -len(ABSENT_SUFFIX)], None
            else:
                continue
        parts = k.split(".")
        node = facts
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = [_fold_absent(r) for r in v] if isinstance(v, list) else v
    return facts


def _fold_absent(rec: Any) -> Any:
    """A record's `<field>__absent: true` as the case file says it: `<field>: null`."""
    if not isinstance(rec, dict):
        return rec
    out = {k: v for k, v in rec.items() if not k.endswith(ABSENT_SUFFIX)}
    for k, v in rec.items():
        if k.endswith(ABSENT_SUFFIX) and v is True:
            out[k[: -len(ABSENT_SUFFIX)]] = None
    return out


def _jsonl(path: str, lay: Layout) -> Iterator[Row]:
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            r = jsonl_row(n, line, lay, path)
            if r is not None:
                yield r


def jsonl_row(n: int, line: str, lay: Layout, where: str) -> Row | None:
    """Line `n` of a JSON Lines table as a row (None for a blank line); a key that is no
    column of the layout is a diagnostic for the whole file (`where`: the file)."""
    if not line.strip():
        return None
    try:
        data = json.loads(line.rstrip("\r\n"), object_pairs_hook=_no_dups)
    except ValueError as err:
        return Row(n, None, None, {}, ("batch.malformed-row", f"line {n}: {err}"))
    if not isinstance(data, dict):
        return Row(n, None, None, {}, ("batch.malformed-row", f"line {n}: not a JSON object"))
    lay.check_columns([k for k in data if k != "facts"], f"{where}:{n}")
    return _row(n, data)


def _no_dups(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"the key {k!r} is given twice")
        out[k] = v
    return out


def _row(n: int, data: dict[str, Any]) -> Row:
    rid = data.pop("id", None)
    as_of_raw = data.pop("as_of", None)
    as_of = None
    if as_of_raw not in (None, ""):
        try:
            as_of = parse_date(str(as_of_raw))
        except (ValueError, ArithmeticError, OverflowError) as err:
            return Row(n, rid, None, {}, ("batch.bad-date", f"as_of: {err}"))
    return Row(n, rid, as_of, _nest(data))


def _csv(path: str, lay: Layout) -> Iterator[Row]:
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        lay.check_columns([c for c in reader.fieldnames or []], path)
        for n, rec in enumerate(reader, 2):
            yield csv_row(n, rec, lay)


def csv_row(n: int, rec: dict[Any, Any], lay: Layout) -> Row:
    """Record `n` of a CSV table (as `csv.DictReader` gives it: the cells beyond the
    header under the key None, a missing cell None) as a row."""
    extra = [c for c in rec.get(None) or [] if c]  # (an empty one holds no value to drop)
    if extra:  # a value in a cell beyond the header: in no column
        return Row(n, rec.get("id"), None, {}, (
            "batch.malformed-row", f"a cell beyond the header's {len(rec) - 1} columns "
            f"holds a value ({extra[0][:40]!r})"))
    data: dict[str, Any] = {}
    for k, v in rec.items():
        if k is None or v is None or v == "":
            continue  # an empty cell: unknown
        t = lay.facts.get(k)
        if t is not None and t.base == "list":
            try:
                v = json.loads(v)
            except ValueError as err:
                return Row(n, rec.get("id"), None, {}, (
                    "batch.malformed-row", f"{k}: not a JSON array ({err})"))
        data[k] = _csv_cell(v, t) if t is not None else \
            _csv_cell(v, None) if k.endswith(ABSENT_SUFFIX) else v
    return _row(n, data)


def _csv_cell(v: str, t: Any) -> Any:
    """A CSV cell as a case file would hold it: `true`/`false` for a boolean (or an
    `__absent` column), digits for an integer; anything else stays text, for the case model
    to read (dates, 61秒, 5%) or to reject with its own message."""
    base = "bool" if t is None else t.base
    if base == "bool" and v.strip().lower() in ("true", "false"):
        return v.strip().lower() == "true"
    if base == "int" and v.strip().lstrip("-").isdigit():
        return int(v.strip())
    return v


def _parquet(path: str, lay: Layout) -> Iterator[Row]:
    import pyarrow.parquet as pq
    pf = pq.ParquetFile(path)
    lay.check_columns(pf.schema_arrow.names, path)
    n = 0
    for batch in pf.iter_batches(batch_size=CHUNK):
        for rec in batch.to_pylist():
            n += 1
            data = {k: (_jsonish(v)) for k, v in rec.items() if v is not None}
            yield _row(n, data)


def _jsonish(v: Any) -> Any:
    """A Parquet value as a case file would hold it (dates ISO, decimals as text)."""
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return str(v.normalize())
    if isinstance(v, list):
        return [{k: _jsonish(x) for k, x in r.items() if x is not None}
                if isinstance(r, dict) else r for r in v]
    return v


# ---- deciding -------------------------------------------------------------------------------

def validate(row: Row, lay: Layout, default_as_of: dt.date) -> tuple[Rulebook | None, Row]:
    """The version in force for the row, and the row with its facts validated."""
    if row.error is not None:
        return None, row
    when = row.as_of or default_as_of
    try:
        chosen = select_version([b.doc for b in lay.books], when)
        book = next(b for b in lay.books if b.doc is chosen)
    except YakkanError as err:
        row.error = ("eval.no-version-in-force", err.diagnostics[0].message)
        return None, row
    row.as_of = when
    extra = [k for k in _flat_keys(row.raw) if k not in book.facts]
    if extra:
        row.error = ("batch.not-in-version", f"{', '.join(extra)}: no fact of {lay.doc} "
                     f"{book.doc.header.version}")
        return None, row
    from pydantic import ValidationError
    fm = facts_model(book)
    try:
        model = fm.model_validate(row.raw)
    except ValidationError as err:
        row.error = ("case.invalid-fact", cell_messages(err, fm, book))
        return None, row
    row.raw = facts_dict(model)
    return book, row


def cell_messages(err: Any, model: Any, book: Rulebook) -> str:
    """A row's validation errors, one per bad cell — `column: message (hint)` — with the
    message and hint a case file gets for the same value (`runtime/case.py` words them)."""
    from yakkan.engine.runtime.case import known_fields, validation_diagnostics
    out = []
    diags = validation_diagnostics(err, "<row>", "", known_fields(model))
    for e, d in zip(err.errors(include_url=False), diags, strict=False):
        loc = [str(x) for x in e["loc"]]
        n = next((i for i in range(len(loc), 0, -1) if ".".join(loc[:i]) in book.facts),
                 len(loc))
        cell = ".".join(loc[:n]) + "".join(f"[{x}]" if x.isdigit() else f".{x}"
                                           for x in loc[n:])
        dotted = ".".join(loc)
        msg = d.message.removeprefix(f"`{dotted}`: ")
        out.append(f"{cell}: {msg}" + (f" ({d.hint})" if d.hint else ""))
    return "; ".join(out)


def _flat_keys(d: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for k, v in d.items():
        path = f"{prefix}{k}"
        if isinstance(v, dict):
            out += _flat_keys(v, path + ".")
        else:
            out.append(path)
    return out


def output_columns(lay: Layout, outcomes: list[str]) -> list[str]:
    cols = ["row", "id", "version", "as_of", "error_code", "error_message"]
    for o in outcomes:
        cols += [f"{o}.value", f"{o}.grounds", f"{o}.undetermined", f"{o}.missing"]
    return cols


@dataclass
class SummaryLabels:
    """The Japanese names a batch summary is read by, from the clause files of every version
    of the document: each outcome's name (`outcome NAME "…"`), whether it is a decision the
    text makes as 承認 (its refusals read 承認しない), and each fact's label. The renderer
    (`renderers/batch_render.py`) words the values (`core/labels.py`)."""

    doc: str
    title: str
    outcomes: dict[str, str] = field(default_factory=dict)
    approval: set[str] = field(default_factory=set)
    facts: dict[str, str] = field(default_factory=dict)


def summary_labels(doc: str) -> SummaryLabels:
    """The labels of `doc`'s outcomes and facts (newest version's label first)."""
    from yakkan.engine.features.explain import is_approval, vocabulary
    books = versions(doc)
    out = SummaryLabels(doc, books[-1].doc.header.title if books else doc)
    for b in reversed(books):
        vocab = vocabulary(b)
        for o in compiled_of(b).outcomes:
            label = b.outcome_labels.get(o)
            if label:
                out.outcomes.setdefault(o, label)
            if is_approval(b, o):
                out.approval.add(o)
        for path, decl in b.facts.items():
            if decl.label:
                out.facts.setdefault(path, decl.label)
            for fd in decl.type.fields:
                label = vocab.label(f"{path}.{fd.name}")
                if label:
                    out.facts.setdefault(f"{path}.{fd.name}", label)
    return out


def all_outcomes(lay: Layout) -> list[str]:
    names: dict[str, None] = {}
    for b in lay.books:
        for o in compiled_of(b).outcomes:
            names[o] = None
    return list(names)


class Engine:
    """Decides validated rows of one version; returns output records in the same order."""

    def __init__(self, kind: str, lay: Layout, outcomes: list[str]):
        self.kind = kind
        self.lay = lay
        self.outcomes = outcomes
        self._sql: dict[str, str] = {}
        self._con: Any = None

    def decide(self, book: Rulebook, rows: list[Row]) -> list[dict[str, Any]]:
        mine = [o for o in self.outcomes if o in compiled_of(book).outcomes]
        if self.kind == "python":
            c = compiled_of(book)
            out = []
            for r in rows:
                assert r.as_of is not None
                ds = c.decide(r.raw, r.as_of, mine)
                rec: dict[str, Any] = {}
                for o, d in ds.items():
                    rec[f"{o}.value"] = d.value
                    rec[f"{o}.grounds"] = [c.citation(k) for k in d.applying]
                    rec[f"{o}.undetermined"] = [c.citation(k) for k in d.undetermined]
                    rec[f"{o}.missing"] = list(d.missing)
                out.append(rec)
            return out
        if self.kind == "spark":
            return self._spark(book, rows, mine)
        return self._duckdb(book, rows, mine)

    def _table(self, book: Rulebook, rows: list[Row]) -> Any:
        """The rows in the canonical layout, as an Arrow table."""
        import pyarrow as pa
        recs = []
        for i, r in enumerate(rows):
            rec = canonical_row(r.raw, book)
            rec["__row"] = i
            rec[AS_OF] = r.as_of
            recs.append(rec)
        return pa.Table.from_pylist(recs, schema=self.lay.arrow_schema(book))

    def _spark(self, book: Rulebook, rows: list[Row], mine: list[str]) -> list[dict[str, Any]]:
        """Spark SQL (local mode here; a cluster's session the same way): the rows go to Spark
        as Parquet, the program as Spark SQL from the same compiler (`runtime/sql.SPARK`)."""
        import tempfile

        import pyarrow.parquet as pq
        spark = spark_session()
        key = f"spark:{book.doc.header.version}"
        if key not in self._sql:
            self._sql[key] = compile_sql(book, SPARK, mine).query("__input")
        with tempfile.TemporaryDirectory() as tmp:
            pq.write_table(self._table(book, rows), f"{tmp}/rows.parquet")
            spark.read.parquet(f"{tmp}/rows.parquet").createOrReplaceTempView("__input")
            got = [r.asDict(recursive=True) for r in spark.sql(self._sql[key]).collect()]
        got.sort(key=lambda g: g["__row"])
        return [{k: v for k, v in g.items() if k not in ("__row", AS_OF)} for g in got]

    def _duckdb(self, book: Rulebook, rows: list[Row], mine: list[str]) -> list[dict[str, Any]]:
        import duckdb
        if self._con is None:
            self._con = duckdb.connect()
        key = f"{book.doc.header.version}"
        if key not in self._sql:
            self._sql[key] = compile_sql(book, DUCKDB, mine).query("__input")
        self._con.register("__input", self._table(book, rows))
        try:
            res = self._con.sql(self._sql[key]).to_arrow_table()
        finally:
            self._con.unregister("__input")
        got = res.sort_by("__row").to_pylist()
        return [{k: v for k, v in g.items() if k not in ("__row", AS_OF)} for g in got]


def run_batch(doc: str, input_path: str, output_path: str | None, *,
              as_of: dt.date | None = None, outcomes: list[str] | None = None,
              engine: str = "duckdb", errors_path: str | None = None,
              progress: Callable[[int], None] | None = None) -> Summary:
    """Decide every row of `input_path`; write the output table; return the counts."""
    if engine != "spark":  # (Spark's input may be a folder or a glob: batch_spark checks it)
        check_input(input_path)
    lay = Layout.of(doc)
    names = all_outcomes(lay)
    if outcomes:
        bad = [o for o in outcomes if o not in names]
        if bad:
            raise YakkanError([Diagnostic(code="batch.unknown-outcome",
                                          message=f"no outcome {o!r} in {doc}",
                                          hint=did_you_mean(o, names)) for o in bad])
        names = [o for o in names if o in outcomes]
    default = as_of or dt.date.today()
    if engine == "spark":  # a file, a folder of files or a glob, read by Spark
        from yakkan.engine.features.batch_spark import spark_native_batch
        summary: Summary = spark_native_batch(spark_session(), lay, input_path, output_path,
                                              names, default, errors_path)
        if progress is not None:
            progress(summary.rows)
        return summary
    if engine == "duckdb" and format_of(input_path) == "parquet":
        from yakkan.engine.features.batch_native import native_batch
        summary = native_batch(lay, input_path, output_path, names, default, errors_path,
                               progress=progress is not None)
        if progress is not None:
            progress(summary.rows)
        return summary
    eng = Engine(engine, lay, names)
    cols = output_columns(lay, names)
    summary = Summary()
    fresh = [p for p in (output_path, errors_path) if p and not Path(p).exists()]
    writer = Writer(output_path, cols) if output_path else None
    errors = Writer(errors_path, ["row", "id", "error_code", "error_message"]) \
        if errors_path else None
    try:
        for chunk in _chunks(read_rows(input_path, lay), CHUNK):
            out = _decide_chunk(chunk, lay, default, eng, names)
            for rec in out:
                summary.add(rec, names)
                if rec["error_code"] is not None and errors is not None:
                    errors.add({k: rec[k] for k in ("row", "id", "error_code",
                                                    "error_message")})
                if writer is not None:
                    writer.add(rec)
            if progress is not None:
                progress(summary.rows)
    except YakkanError:  # the input is unusable: leave no half-written output behind
        for w in (writer, errors):
            if w is not None:
                w.close()
        for p in fresh:
            Path(p).unlink(missing_ok=True)
        raise
    finally:
        if writer is not None:
            writer.close()
        if errors is not None:
            errors.close()
    return summary


def _chunks(it: Iterator[Row], n: int) -> Iterator[list[Row]]:
    buf: list[Row] = []
    for r in it:
        buf.append(r)
        if len(buf) >= n:
            yield buf
            buf = []
    if buf:
        yield buf


def _decide_chunk(chunk: list[Row], lay: Layout, default: dt.date, eng: Engine,
                  names: list[str]) -> list[dict[str, Any]]:
    by_book: dict[str, tuple[Rulebook, list[int]]] = {}
    recs: list[dict[str, Any]] = []
    for i, r in enumerate(chunk):
        book, r = validate(r, lay, default)
        rec: dict[str, Any] = {"row": r.row, "id": r.id,
                               "version": book.doc.header.version if book else None,
                               "as_of": r.as_of.isoformat() if r.as_of else None,
                               "error_code": r.error[0] if r.error else None,
                               "error_message": r.error[1] if r.error else None}
        for o in names:
            rec.update({f"{o}.value": None, f"{o}.grounds": None, f"{o}.undetermined": None,
                        f"{o}.missing": None})
        recs.append(rec)
        if book is not None:
            by_book.setdefault(book.doc.header.version or "", (book, []))[1].append(i)
    for book, idx in by_book.values():
        decided = eng.decide(book, [chunk[i] for i in idx])
        for i, d in zip(idx, decided, strict=True):
            recs[i].update(d)
    return recs


# ---- writing --------------------------------------------------------------------------------

class Writer:
    """Streams output records to Parquet, CSV (lists as JSON) or JSON Lines."""

    def __init__(self, path: str, columns: list[str]):
        self.path = path
        self.fmt = format_of(path)
        self.columns = columns
        self.buf: list[dict[str, Any]] = []
        self._pq: Any = None
        self._f: Any = None
        self._csv: Any = None
        self._closed = False
        try:
            if self.fmt == "jsonl":
                self._f = open(path, "w", encoding="utf-8")  # closed in close()
            elif self.fmt == "csv":
                self._f = open(path, "w", encoding="utf-8", newline="")
                self._csv = csv.writer(self._f)
                self._csv.writerow(columns)
            else:  # Parquet is written at the first flush: check the place now
                Path(path).touch()
        except OSError as err:
            raise YakkanError([Diagnostic(
                code="io.unwritable", message=f"cannot write `{path}`: "
                f"{err.strerror or type(err).__name__}",
                hint="check that the folder exists and that you may write there")]) from None

    def add(self, rec: dict[str, Any]) -> None:
        if self.fmt == "jsonl":
            self._f.write(json.dumps({c: rec.get(c) for c in self.columns},
                                     ensure_ascii=False) + "\n")
        elif self.fmt == "csv":
            self._csv.writerow(["" if rec.get(c) is None else
                                json.dumps(rec[c], ensure_ascii=False)
                                if isinstance(rec[c], list) else rec[c]
                                for c in self.columns])
        else:
            self.buf.append(rec)
            if len(self.buf) >= CHUNK:
                self._flush()

    def _flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq
        if not self.buf:
            return
        fields = []
        for c in self.columns:
            if c.endswith((".grounds", ".undetermined", ".missing")):
                fields.append(pa.field(c, pa.list_(pa.string())))
            elif c == "row":
                fields.append(pa.field(c, pa.int64()))
            else:
                fields.append(pa.field(c, pa.string()))
        schema = pa.schema(fields)
        table = pa.Table.from_pylist(
            [{c: (str(r[c]) if r.get(c) is not None and schema.field(c).type == pa.string()
                  else r.get(c)) for c in self.columns} for r in self.buf], schema=schema)
        if self._pq is None:
            self._pq = pq.ParquetWriter(self.path, schema)
        self._pq.write_table(table)
        self.buf = []

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.fmt == "parquet":
            self._flush()
            if self._pq is not None:
                self._pq.close()
            else:  # no rows: an empty table with the columns
                import pyarrow as pa
                import pyarrow.parquet as pq
                pq.write_table(pa.table({c: pa.array([], pa.string()) for c in self.columns}),
                               self.path)
        elif self._f is not None:
            self._f.close()


def template(doc: str, path: str) -> list[str]:
    """An empty input table with every column of the layout (and its types)."""
    lay = Layout.of(doc)
    fmt = format_of(path)
    cols = lay.columns()
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq
        schema = lay.arrow_schema()
        fields = [pa.field("id", pa.string()), pa.field("as_of", pa.date32())] + \
            [f for f in schema if f.name not in ("__row", AS_OF)]
        pq.write_table(pa.Table.from_pylist([], schema=pa.schema(fields)), path)
    elif fmt == "csv":
        with open(path, "w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerow(cols)
    else:
        with open(path, "w", encoding="utf-8") as f:
            f.write(json.dumps({c: None for c in cols}, ensure_ascii=False) + "\n")
    return cols


def column_types(doc: str) -> list[tuple[str, str]]:
    """(column, type) of the layout, for `--template` on the terminal."""
    lay = Layout.of(doc)
    out = [("id", "any"), ("as_of", "DATE")]
    for path, t in lay.facts.items():
        out.append((path, sql_type(t)))
        if t.base in ABSENT_OK:
            out.append((path + ABSENT_SUFFIX, "BOOLEAN"))
    return out


# ---- comparing two versions -----------------------------------------------------------------

@dataclass
class Comparison:
    """Rows whose outcome an amendment changes: counts per transition and per provision."""

    before: str
    after: str
    rows: int = 0
    changed: int = 0
    rejected: int = 0
    transitions: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    provisions: Counter[str] = field(default_factory=Counter)


def compare_batch(doc: str, input_path: str, output_path: str | None, before: dt.date,
                  after: dt.date, outcomes: list[str] | None = None, engine: str = "duckdb",
                  progress: Callable[[int], None] | None = None) -> Comparison:
    """Decide every row under the version in force on `before` and on `after`; write the
    rows whose outcome changes (with both values and both ground lists)."""
    check_input(input_path)
    lay = Layout.of(doc)
    old, new = rulebook_for(doc, before), rulebook_for(doc, after)
    names = [o for o in all_outcomes(lay) if outcomes is None or o in outcomes]
    if outcomes:
        bad = [o for o in outcomes if o not in names]
        if bad:
            raise YakkanError([Diagnostic(code="batch.unknown-outcome",
                                          message=f"no outcome {o!r} in {doc}",
                                          hint=did_you_mean(o, all_outcomes(lay)))
                               for o in bad])
    eng = Engine(engine, lay, names)
    cmp = Comparison(f"{old.doc.header.version}", f"{new.doc.header.version}")
    cols = ["row", "id", "outcome", "before", "after", "before.grounds", "after.grounds"]
    writer = Writer(output_path, cols) if output_path else None
    # each side validates against its own version only
    sides_of = [(Layout(doc, [b], {p: d.type for p, d in b.facts.items()}), b, when)
                for b, when in ((old, before), (new, after))]
    try:
        for chunk in _chunks(read_rows(input_path, lay), CHUNK):
            sides = []
            for side, book, when in sides_of:
                ok: list[int] = []
                rows = []
                for i, r in enumerate(chunk):
                    rr = Row(r.row, r.id, when, dict(r.raw), r.error)
                    ok_book, rr = validate(rr, side, when)
                    if ok_book is not None:
                        ok.append(i)
                        rows.append(rr)
                got = eng.decide(book, rows)
                sides.append(dict(zip(ok, got, strict=True)))
            for i, r in enumerate(chunk):
                cmp.rows += 1
                a, b = sides[0].get(i), sides[1].get(i)
                if a is None or b is None:
                    cmp.rejected += 1
                    continue
                changed = False
                for o in names:
                    va, vb = a.get(f"{o}.value"), b.get(f"{o}.value")
                    if va == vb:
                        continue
                    changed = True
                    cmp.transitions[(o, str(va), str(vb))] += 1
                    ga, gb = a.get(f"{o}.grounds") or [], b.get(f"{o}.grounds") or []
                    for c in set(ga) ^ set(gb):
                        cmp.provisions[c] += 1
                    if writer is not None:
                        writer.add({"row": r.row, "id": r.id, "outcome": o, "before": va,
                                    "after": vb, "before.grounds": ga, "after.grounds": gb})
                cmp.changed += changed
            if progress is not None:
                progress(cmp.rows)
    finally:
        if writer is not None:
            writer.close()
    return cmp

