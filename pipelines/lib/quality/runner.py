"""Validate warehouse tables with the committed GX suites (no Dagster here).

GX's SQL datasource does not work with DuckDB (gx #10738, #11579), so each table is read from DuckDB into pandas:

- rows: the columns the suite names (a repeatable reservoir sample when the table is larger than the suite's
  `sample_rows`), validated by the `<table>` checkpoint;
- profile: one row per source system computed in DuckDB over the whole table (row count, ratio to the previous
  accepted count in `quality_volume_history`, freshness in days, duplicate rate), validated by the
  `<table>__profile` checkpoint.

Failing keys of row-level expectations are looked up in DuckDB over the whole table (the same predicate as the
expectation, see `failing_rows.py`) and written to `quality_failures`, so a person can find and fix the rows.
Data Docs are rebuilt for the run's results; the site's index path is returned.

Validation results and Data Docs are written under the run's output folder (`<output>/quality/validations` and
`<output>/quality/data_docs/local_site`, the `${touchplan_quality_dir}` of great_expectations.yml, given to GX as a
runtime variable), never into the committed context. The checkpoints' result format leaves row values out
(`exclude_unexpected_values`, `partial_unexpected_count: 0`), so neither keeps a customer's address or name; and only
the latest `KEEP_RESULTS` results per suite are kept, so the folder does not grow run after run.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipelines.lib.quality.build_suites import PROFILE_SUFFIX
from pipelines.lib.quality.failing_rows import failing_rows_sql
from pipelines.lib.quality.warehouse_tables import ensure_quality_tables
from pipelines.lib.sql import quote_ident

SEVERITIES = ("error", "warn")
QUALITY_DIR_VARIABLE = "touchplan_quality_dir"  # ${touchplan_quality_dir} in great_expectations.yml
KEEP_RESULTS = 10  # validation results (and their Data Docs pages) kept per suite
OBSERVED_MAX_CHARS = 200


class QualityConfigError(ValueError):
    """A suite in the GX context is missing or malformed."""


@dataclass
class ExpectationOutcome:
    suite: str
    check: str
    severity: str  # "error" | "warn"
    expectation_type: str
    column: str | None
    success: bool
    failing_count: int | None  # rows (or sources, for profile expectations) that fail; None if not countable
    element_count: int | None
    observed: str | None = None  # observed value for table-level expectations (never personal data)

    @property
    def qualified_name(self) -> str:
        return f"{self.suite}.{self.check}"


@dataclass
class TableValidation:
    table: str
    outcomes: list[ExpectationOutcome]
    total_rows: int
    rows_validated: int
    seconds: float
    data_docs_path: str | None
    run_at: datetime
    failures_recorded: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def sampled(self) -> bool:
        return self.rows_validated < self.total_rows

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]

    @property
    def error_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.failed if o.severity == "error"]

    @property
    def warn_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.failed if o.severity == "warn"]

    @property
    def has_error_expectations(self) -> bool:
        return any(o.severity == "error" for o in self.outcomes)

    @property
    def passed(self) -> bool:
        """True when no ERROR expectation failed (WARN failures are reported, not fatal)."""
        return not self.error_failures

    def message(self) -> str:
        if not self.failed:
            return f"{self.table}: all {len(self.outcomes)} expectations passed"
        parts = []
        for o in self.error_failures + self.warn_failures:
            count = "" if o.failing_count is None else f": {o.failing_count} failing"
            unit = " sources" if o.suite.endswith(PROFILE_SUFFIX) and o.failing_count is not None else " rows"
            parts.append(f"{o.severity.upper()} {o.check} on {self.table}{count}{unit if count else ''}")
        return f"{self.table}: " + "; ".join(parts)


def _now_param(now: datetime) -> pd.Timestamp:
    """Upper bound for 'not in the future': the as-of time plus a day of clock slack, naive UTC."""
    moment = now.astimezone(UTC).replace(tzinfo=None) + timedelta(days=1)
    return pd.Timestamp(moment)


_SHARED_RUNNERS: dict[tuple[Path, Path, str], QualityRunner] = {}
CONFIG_PATTERNS = (
    "great_expectations.yml",
    "expectations/*.json",
    "checkpoints/*.json",
    "validation_definitions/*.json",
)


def default_results_dir() -> Path:
    from pipelines.lib.settings import Settings

    return Settings.from_env().quality


def config_fingerprint(context_root: Path | str) -> str:
    """A digest of the context's configuration files (the context file, suites, checkpoints, validation
    definitions): names and contents, so an edited or added suite gives another fingerprint."""
    root = Path(context_root)
    digest = hashlib.sha256()
    for pattern in CONFIG_PATTERNS:
        for path in sorted(root.glob(pattern)):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def shared_runner(context_root: Path | str, results_dir: Path | str | None = None) -> QualityRunner:
    """One runner (so one GX context, its suites and checkpoints loaded once) per context folder, results folder,
    configuration and process: importing GX and loading the context cost ~11 s of CPU, paid once by the first check
    of a run rather than by every check's step. Keyed on the configuration files' contents
    (`config_fingerprint`, a few ms): a suite edited between two runs of a long-lived process (`dagster dev`)
    gets a fresh runner, never the cached suite."""
    root = Path(context_root).resolve()
    results = Path(results_dir or default_results_dir()).resolve()
    key = (root, results, config_fingerprint(root))
    if key not in _SHARED_RUNNERS:
        for stale in [k for k in _SHARED_RUNNERS if k[:2] == key[:2]]:
            del _SHARED_RUNNERS[stale]
        _SHARED_RUNNERS[key] = QualityRunner(root, results)
    return _SHARED_RUNNERS[key]


_JINJA_BYTECODE = None


def _share_data_docs_templates() -> None:
    """Data Docs compile GX's ~40 Jinja templates again for every page view object (a new jinja Environment
    each), ~2/3 of a table's Data Docs time. Give every such Environment one in-memory bytecode cache (Jinja's
    own mechanism, keyed on template name and source checksum): a template is compiled once per process; the
    rendered pages are the same."""
    global _JINJA_BYTECODE
    if _JINJA_BYTECODE is not None:
        return
    import jinja2
    from great_expectations.render.view.view import DefaultJinjaView

    class MemoryBytecodeCache(jinja2.BytecodeCache):
        def __init__(self) -> None:
            self._codes: dict[str, bytes] = {}

        def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            code = self._codes.get(bucket.key)
            if code is not None:
                bucket.bytecode_from_string(code)

        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            self._codes[bucket.key] = bucket.bytecode_to_string()

    cache = MemoryBytecodeCache()
    original_init = DefaultJinjaView.__init__

    # the same named arguments as the original: GX instantiates views from config, passing the arguments that
    # `inspect.getfullargspec(__init__)` lists (a `*args, **kwargs` wrapper would get none: no custom styles)
    def init_with_cache(self, custom_styles_directory=None, custom_views_directory=None) -> None:
        original_init(self, custom_styles_directory, custom_views_directory)
        self.env.bytecode_cache = cache

    DefaultJinjaView.__init__ = init_with_cache
    _JINJA_BYTECODE = cache


class QualityRunner:
    """Runs a table's suites from a GX file context (by default the committed `expectations/`); validation results
    and Data Docs go to `results_dir` (default: `<output>/quality` of the environment's settings)."""

    def __init__(self, context_root: Path | str, results_dir: Path | str | None = None):
        self.context_root = Path(context_root)
        self.results_dir = Path(results_dir or default_results_dir()).resolve()
        self._context = None
        self._suites: dict[str, Any] = {}  # suite name -> ExpectationSuite, loaded once per runner
        self._checkpoints: dict[str, Any] = {}  # checkpoint name -> Checkpoint, loaded once per runner

    @property
    def context(self):
        if self._context is None:
            import great_expectations as gx

            if not (self.context_root / "great_expectations.yml").exists():
                raise QualityConfigError(
                    f"{self.context_root}: no great_expectations.yml (run "
                    "`python -m pipelines.lib.quality.build_suites`)"
                )
            self.results_dir.mkdir(parents=True, exist_ok=True)
            _share_data_docs_templates()
            self._context = gx.get_context(
                mode="file",
                context_root_dir=self.context_root,
                runtime_environment={QUALITY_DIR_VARIABLE: str(self.results_dir)},
            )
        return self._context

    def suite_names(self) -> list[str]:
        return sorted(p.stem for p in (self.context_root / "expectations").glob("*.json"))

    def tables(self) -> list[str]:
        return [name for name in self.suite_names() if not name.endswith(PROFILE_SUFFIX)]

    def suite_severities(self, table: str) -> set[str]:
        """Severities used by a table's suites, read from the committed JSON (cheap: no context needed)."""
        import json

        severities: set[str] = set()
        for name in (table, table + PROFILE_SUFFIX):
            path = self.context_root / "expectations" / f"{name}.json"
            if not path.exists():
                continue
            data = json.loads(path.read_text())
            severities |= {
                (x.get("meta") or {}).get("severity", "error") for x in data.get("expectations", [])
            }
        return severities

    # ------------------------------------------------------------------ validation
    def validate_table(
        self,
        con: duckdb.DuckDBPyConnection,
        table: str,
        *,
        now: datetime | None = None,
        run_id: str | None = None,
        build_docs: bool = True,
        custom_source_systems: Collection[str] = (),
    ) -> TableValidation:
        """Validate `table`; `custom_source_systems`: the source systems config/sources.yaml declares for it
        (custom_csv rules), allowed by `source_system_allowed` besides the built-in ones."""
        started = time.perf_counter()
        timings: dict[str, float] = {}
        now = now or datetime.now(UTC)
        run_at = datetime.now(UTC).replace(tzinfo=None)
        ensure_quality_tables(con)
        columns = _table_columns(con, table)
        if not columns:
            raise QualityConfigError(f"table {table!r} does not exist in the warehouse")

        rows_suite = self._suite(table)
        profile_suite = self._suite(table + PROFILE_SUFFIX)
        meta = rows_suite.meta or {}
        params: dict[str, Any] = {"now": _now_param(now)}
        if "source_systems" in meta:
            builtin = list(meta["source_systems"])
            params["source_systems"] = builtin + sorted(set(custom_source_systems) - set(builtin))

        t0 = time.perf_counter()
        total_rows = con.execute(f"SELECT count(*) FROM {quote_ident(table)}").fetchone()[0]
        frame = _read_rows(con, table, columns, meta)
        timings["read_rows"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        rows_result = self._run_checkpoint(table, frame, params, run_id)
        timings["validate_rows"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        profile = _profile_frame(con, table, columns, profile_suite.meta or {}, now)
        profile_result = self._run_checkpoint(table + PROFILE_SUFFIX, profile, params, run_id)
        timings["profile"] = time.perf_counter() - t0

        outcomes = _outcomes(table, rows_result) + _outcomes(table + PROFILE_SUFFIX, profile_result)

        t0 = time.perf_counter()
        recorded = _record_failures(
            con, table, columns, meta, rows_suite, profile_suite, profile, outcomes, params, run_at
        )
        _record_results(con, table, outcomes, run_at)
        volume_ok = not any(o.check in ("volume_drop",) and not o.success for o in outcomes)
        _record_volume(con, table, profile, run_at, run_id, accepted=volume_ok)
        timings["failing_keys"] = time.perf_counter() - t0

        docs_path = None
        if build_docs:
            t0 = time.perf_counter()
            docs_path = self.build_docs([rid for r in (rows_result, profile_result) for rid in r.run_results])
            timings["data_docs"] = time.perf_counter() - t0

        return TableValidation(
            table=table,
            outcomes=outcomes,
            total_rows=int(total_rows),
            rows_validated=len(frame),
            seconds=time.perf_counter() - started,
            data_docs_path=docs_path,
            run_at=run_at,
            failures_recorded=recorded,
            timings=timings,
        )

    def build_docs(self, resource_identifiers: list | None = None) -> str:
        self.prune_results()
        sites = self.context.build_data_docs(resource_identifiers=resource_identifiers or None)
        url = next(iter(sites.values()))
        return url.removeprefix("file://")

    def prune_results(self, keep: int = KEEP_RESULTS) -> int:
        """Delete all but the newest `keep` validation results per suite, with their Data Docs pages; returns the
        number deleted. Results are stored as `validations/<suite>/<run name>/<run time>/<batch>.json` and their
        pages under `data_docs/local_site/validations/` with the same path."""
        import shutil

        deleted = 0
        store = self.results_dir / "validations"
        pages = self.results_dir / "data_docs" / "local_site" / "validations"
        if not store.is_dir():
            return 0
        for suite in (p for p in store.iterdir() if p.is_dir()):
            runs = sorted(
                (t for r in suite.iterdir() if r.is_dir() for t in r.iterdir() if t.is_dir()),
                key=lambda t: t.name,  # the run time, e.g. 20261207T101500.123456Z: sorts by time
                reverse=True,
            )
            for old in runs[keep:]:
                relative = old.relative_to(store)
                shutil.rmtree(old, ignore_errors=True)
                shutil.rmtree(pages / relative, ignore_errors=True)
                deleted += 1
        return deleted

    def _suite(self, name: str):
        if name in self._suites:
            return self._suites[name]
        try:
            self._suites[name] = self.context.suites.get(name)
            return self._suites[name]
        except Exception as exc:  # GX raises its own DataContextError subclasses
            raise QualityConfigError(
                f"{self.context_root}/expectations/{name}.json: suite {name!r} not found or invalid ({exc})"
            ) from exc

    def _run_checkpoint(self, name: str, frame: pd.DataFrame, params: dict[str, Any], run_id: str | None):
        from great_expectations.core.run_identifier import RunIdentifier

        if name not in self._checkpoints:
            self._checkpoints[name] = self.context.checkpoints.get(name)
        checkpoint = self._checkpoints[name]
        rid = RunIdentifier(run_name=run_id or "touchplan", run_time=datetime.now(UTC))
        return checkpoint.run(
            batch_parameters={"dataframe": frame}, expectation_parameters=params, run_id=rid
        )


# ---------------------------------------------------------------------- helpers (DuckDB side)
def _table_columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
        "AND table_schema = current_schema() ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return {name: dtype for name, dtype in rows}


def _select_expr(column: str, dtype: str) -> str:
    q = quote_ident(column)
    if dtype.startswith("TIMESTAMP WITH TIME ZONE"):
        return f"timezone('UTC', {q}) AS {q}"  # naive UTC, comparable with the suite's `now`
    if dtype == "DATE":
        return f"CAST({q} AS TIMESTAMP) AS {q}"
    return q


def _read_rows(con, table: str, columns: dict[str, str], meta: dict[str, Any]) -> pd.DataFrame:
    wanted = list(dict.fromkeys([*meta.get("key_columns", []), *meta.get("columns", [])]))
    present = [c for c in wanted if c in columns]
    select = ", ".join(_select_expr(c, columns[c]) for c in present) or "1 AS _none"
    sample_rows = meta.get("sample_rows")
    sample = f" USING SAMPLE reservoir({int(sample_rows)} ROWS) REPEATABLE (42)" if sample_rows else ""
    frame = con.execute(f"SELECT {select} FROM {quote_ident(table)}{sample}").df()
    return frame.drop(columns=["_none"], errors="ignore")


def _profile_frame(
    con, table: str, columns: dict[str, str], meta: dict[str, Any], now: datetime
) -> pd.DataFrame:
    source_col = meta.get("source_column")
    fresh_col = meta.get("freshness_column")
    dup_key = [c for c in (meta.get("duplicate_key") or []) if c in columns]
    source_expr = (
        f"coalesce(CAST({quote_ident(source_col)} AS VARCHAR), '(none)')"
        if source_col and source_col in columns
        else "'(all)'"
    )
    as_of = now.astimezone(UTC).replace(tzinfo=None)
    if fresh_col and fresh_col in columns:
        ts = (
            f"timezone('UTC', {quote_ident(fresh_col)})"
            if columns[fresh_col].startswith("TIMESTAMP WITH")
            else f"CAST({quote_ident(fresh_col)} AS TIMESTAMP)"
        )
        fresh = f"date_diff('second', max({ts}), CAST($as_of AS TIMESTAMP)) / 86400.0"
    else:
        fresh = "CAST(NULL AS DOUBLE)"
    if dup_key:
        key = "(" + ", ".join(quote_ident(c) for c in dup_key) + ")"
        dup = f"1 - count(DISTINCT {key}) / count(*)::DOUBLE"
    else:
        dup = "CAST(NULL AS DOUBLE)"
    sql = f"""
        WITH current AS (
            SELECT {source_expr} AS source, count(*) AS row_count, {fresh} AS freshness_days,
                   {dup} AS duplicate_rate
            FROM {quote_ident(table)} GROUP BY ALL
        ),
        previous AS (
            SELECT source, arg_max(row_count, measured_at) AS previous_row_count
            FROM quality_volume_history WHERE table_name = $table AND is_accepted GROUP BY source
        )
        SELECT coalesce(c.source, p.source) AS source, coalesce(c.row_count, 0) AS row_count,
               p.previous_row_count,
               coalesce(c.row_count, 0) / nullif(p.previous_row_count, 0)::DOUBLE AS volume_ratio,
               c.freshness_days, c.duplicate_rate
        FROM current c FULL OUTER JOIN previous p ON c.source = p.source
        ORDER BY 1
    """
    # DuckDB rejects named parameters the statement does not use: pass as_of only with a freshness column.
    params: dict[str, Any] = {"table": table}
    if "$as_of" in sql:
        params["as_of"] = as_of
    frame = con.execute(sql, params).df()
    if frame.empty:  # an empty table seen for the first time: one row so `rows_present` fails visibly
        frame = pd.DataFrame(
            [
                {
                    "source": "(all)",
                    "row_count": 0,
                    "previous_row_count": None,
                    "volume_ratio": None,
                    "freshness_days": None,
                    "duplicate_rate": None,
                }
            ]
        )
    for col in ("row_count", "previous_row_count", "volume_ratio", "freshness_days", "duplicate_rate"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    return frame


def _outcomes(suite: str, checkpoint_result) -> list[ExpectationOutcome]:
    out = []
    for validation in checkpoint_result.run_results.values():
        for r in validation.results:
            cfg = r.expectation_config
            meta = cfg.meta or {}
            severity = str(meta.get("severity", "error")).lower()
            if severity not in SEVERITIES:
                raise QualityConfigError(
                    f"suite {suite}: expectation {cfg.type} has meta.severity={severity!r}; "
                    "expected 'error' or 'warn'"
                )
            result = r.result or {}
            error = _exception_message(r.exception_info)
            if error is not None:
                # An expectation that cannot run (e.g. its column is missing) counts as failed.
                success, failing, observed = False, None, ("could not run: " + error)[:OBSERVED_MAX_CHARS]
            else:
                success = bool(r.success)
                failing = result.get("unexpected_count")
                observed = result.get("observed_value")
                observed = None if observed is None else str(observed)[:OBSERVED_MAX_CHARS]
            out.append(
                ExpectationOutcome(
                    suite=suite,
                    check=str(meta.get("check") or cfg.type),
                    severity=severity,
                    expectation_type=cfg.type,
                    column=cfg.kwargs.get("column"),
                    success=success,
                    failing_count=None if failing is None else int(failing),
                    element_count=result.get("element_count"),
                    observed=observed,
                )
            )
    return out


def _exception_message(info: Any) -> str | None:
    """GX reports exceptions either flat or keyed by metric id; return the first message, if any."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "error")
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message") or "error")
    return None


def _record_failures(
    con,
    table,
    columns,
    meta,
    rows_suite,
    profile_suite,
    profile: pd.DataFrame,
    outcomes: list[ExpectationOutcome],
    params,
    run_at,
) -> int:
    """Replace this table's rows in quality_failures with the keys failing in this run."""
    con.execute("DELETE FROM quality_failures WHERE table_name = ?", [table])
    key_columns = [c for c in meta.get("key_columns", []) if c in columns]
    configs = {(x.configuration.meta or {}).get("check"): x.configuration for x in rows_suite.expectations}
    profile_configs = {
        (x.configuration.meta or {}).get("check"): x.configuration for x in profile_suite.expectations
    }
    recorded = 0
    for outcome in outcomes:
        if outcome.success:
            continue
        if outcome.suite == table and key_columns:
            expectation = configs.get(outcome.check)
            sql = failing_rows_sql(expectation, table, columns, key_columns, params) if expectation else None
            if sql is None:
                continue
            count = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]
            outcome.failing_count = int(count)  # over the whole table, not just the validated sample
            con.execute(
                f"""
                INSERT INTO quality_failures
                SELECT ? AS check_name, ? AS table_name, ? AS key_column, key_value,
                       left(CAST(observed_value AS VARCHAR), {OBSERVED_MAX_CHARS}) AS observed_value,
                       ? AS severity, ? AS run_at
                FROM ({sql})
            """,
                [outcome.qualified_name, table, ",".join(key_columns), outcome.severity, run_at],
            )
            recorded += count
        elif outcome.suite != table and outcome.column in profile.columns:
            expectation = profile_configs.get(outcome.check)
            values = profile[outcome.column]
            low = expectation.kwargs.get("min_value") if expectation else None
            high = expectation.kwargs.get("max_value") if expectation else None
            bad_mask = values.notna() & (
                ((values < low) if low is not None else False)
                | ((values > high) if high is not None else False)
            )
            bad = profile[bad_mask]
            outcome.failing_count = len(bad)
            for _, row in bad.iterrows():  # one row per source system: a handful at most
                con.execute(
                    "INSERT INTO quality_failures VALUES (?, ?, 'source', ?, ?, ?, ?)",
                    [
                        outcome.qualified_name,
                        table,
                        row["source"],
                        f"{outcome.column}={row[outcome.column]:.4g}",
                        outcome.severity,
                        run_at,
                    ],
                )
                recorded += 1
    return recorded


def _record_results(con, table: str, outcomes: list[ExpectationOutcome], run_at) -> None:
    """Replace this table's rows in quality_check_results with one row per expectation of this run."""
    con.execute("DELETE FROM quality_check_results WHERE table_name = ?", [table])
    rows = [
        (o.qualified_name, table, o.severity, o.success, o.failing_count,
         None if o.observed is None else str(o.observed)[:OBSERVED_MAX_CHARS], run_at)
        for o in outcomes
    ]  # fmt: skip
    if rows:
        con.executemany("INSERT INTO quality_check_results VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


def _record_volume(con, table: str, profile: pd.DataFrame, run_at, run_id, accepted: bool) -> None:
    rows = [
        (table, r["source"], int(r["row_count"]), run_at, run_id, accepted) for _, r in profile.iterrows()
    ]
    con.executemany("INSERT INTO quality_volume_history VALUES (?, ?, ?, ?, ?, ?)", rows)
