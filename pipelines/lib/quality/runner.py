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
import json
import time
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
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
    # how the row suite was evaluated: "validated" (GX over the table or its sample), "new rows" (GX over the rows
    # of the files loaded since the last validation, merged with its outcomes) or "reused" (the table did not
    # change: the last validation's outcomes stand); the profile suite is evaluated on every run
    rows_scope: str = "validated"
    reused_from_run: str | None = None  # "reused": the run whose validation stands
    rows_validated_at: datetime | None = None  # when GX evaluated the row suite's outcomes (UTC)
    new_files: int = 0  # "new rows": files whose rows were validated

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
        note = ""
        if self.rows_scope == "reused":
            note = (
                f" (rows unchanged since run {self.reused_from_run} at {self.rows_validated_at:%Y-%m-%d %H:%M:%S}"
                " UTC: not re-validated)"
            )
        elif self.rows_scope == "new rows":
            note = f" (row checks on the {self.rows_validated} rows of {self.new_files} new file(s))"
        return self._message() + note

    def _message(self) -> str:
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
        self._config_key: str | None = None

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
        reuse: bool = True,
    ) -> TableValidation:
        """Validate `table`; `custom_source_systems`: the source systems config/sources.yaml declares for it
        (custom_csv rules), allowed by `source_system_allowed` besides the built-in ones.

        `reuse` (off for `touchplan run --full-refresh`): when the rows the row suite reads did not change since
        the table's last validation under the same configuration, that validation's row outcomes stand (GX does
        not run the row suite); when only files were added, the row suite runs on the new files' rows (see
        `_reuse_plan`). The profile suite (volume, freshness, duplicates, over the whole table) runs every time."""
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
        state = _ContentState.measure(con, table, columns, meta, params, self.config_key)
        plan = _reuse_plan(con, table, state, params["now"], rows_suite) if reuse else _ReusePlan("validated")
        total_rows = state.total_rows
        timings["fingerprint"] = time.perf_counter() - t0

        rows_run_ids: list = []
        rows_validated = total_rows
        if plan.scope == "reused":
            row_outcomes = plan.previous_outcomes
            rows_validated = plan.previous_rows_validated
        else:
            t0 = time.perf_counter()
            frame = _read_rows(con, table, columns, meta, only_files=plan.new_files)
            timings["read_rows"] = time.perf_counter() - t0
            rows_validated = len(frame)

            t0 = time.perf_counter()
            rows_result = self._run_checkpoint(table, frame, params, run_id)
            timings["validate_rows"] = time.perf_counter() - t0
            rows_run_ids = list(rows_result.run_results)
            row_outcomes = _outcomes(table, rows_result)
            if plan.scope == "new rows":
                row_outcomes = _merge_outcomes(plan.previous_outcomes, row_outcomes)

        t0 = time.perf_counter()
        profile = _profile_frame(con, table, columns, profile_suite.meta or {}, now)
        profile_result = self._run_checkpoint(table + PROFILE_SUFFIX, profile, params, run_id)
        timings["profile"] = time.perf_counter() - t0

        outcomes = row_outcomes + _outcomes(table + PROFILE_SUFFIX, profile_result)

        t0 = time.perf_counter()
        recorded = _record_failures(
            con, table, columns, meta, rows_suite, profile_suite, profile, outcomes, params, run_at
        )
        validated_at = plan.previous_validated_at if plan.scope == "reused" else run_at
        _record_results(con, table, outcomes, run_at, plan.scope, validated_at)
        volume_ok = not any(o.check in ("volume_drop",) and not o.success for o in outcomes)
        _record_volume(con, table, profile, run_at, run_id, accepted=volume_ok)
        if plan.scope == "reused":
            # the outcomes hold as of this `now` too (`_reuse_plan`): the next run compares with it
            state.move_now(con, params["now"])
        else:
            # rows the stored outcomes cover: the earlier validation's and the new files' on "new rows"
            covered = rows_validated + (plan.previous_rows_validated if plan.scope == "new rows" else 0)
            state.save(con, row_outcomes, params["now"], covered, run_id, run_at)
        timings["failing_keys"] = time.perf_counter() - t0

        docs_path = None
        if build_docs:
            t0 = time.perf_counter()
            docs_path = self.build_docs([*rows_run_ids, *profile_result.run_results])
            timings["data_docs"] = time.perf_counter() - t0

        return TableValidation(
            table=table,
            outcomes=outcomes,
            total_rows=int(total_rows),
            rows_validated=int(rows_validated),
            seconds=time.perf_counter() - started,
            data_docs_path=docs_path,
            run_at=run_at,
            failures_recorded=recorded,
            timings=timings,
            rows_scope=plan.scope,
            reused_from_run=plan.previous_run_id if plan.scope == "reused" else None,
            rows_validated_at=validated_at,
            new_files=len(plan.new_files or ()),
        )

    @property
    def config_key(self) -> str:
        """The configuration fingerprint of this runner's context (computed once: a runner's suites are loaded
        once, so a changed file means another runner, `shared_runner`)."""
        if self._config_key is None:
            self._config_key = config_fingerprint(self.context_root)
        return self._config_key

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
# The row expectations whose outcome over a table is the outcome over its parts (each row judged alone, `mostly`
# aside): a raw table that only gained files can have them evaluated on the new files' rows (`_reuse_plan`).
ROW_LOCAL_EXPECTATIONS = frozenset(
    {
        "expect_table_columns_to_match_set",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_be_null",
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_match_regex",
        "expect_column_values_to_be_between",
        "expect_column_pair_values_a_to_be_greater_than_b",
    }
)
NOW_PARAMETER = {"$PARAMETER": "now"}


@dataclass
class _ContentState:
    """What the row suite reads, fingerprinted in DuckDB: per `_source_file` (one part '' for tables without
    files) the row count and the sum of a hash of each row's suite columns (order-independent, one scan)."""

    table: str
    config_fingerprint: str
    parameters_fingerprint: str
    parts: dict[str, list[int]]
    has_files: bool

    @property
    def total_rows(self) -> int:
        return sum(n for n, _ in self.parts.values())

    @classmethod
    def measure(cls, con, table: str, columns: dict[str, str], meta: dict[str, Any], params, config_key: str):
        read = _read_columns(columns, meta)
        has_files = "_source_file" in columns
        part = "coalesce(CAST(_source_file AS VARCHAR), '(none)')" if has_files else "''"
        hashed = f"hash({', '.join(quote_ident(c) for c in read)})" if read else "0"
        rows = con.execute(
            f"SELECT {part} AS part, count(*) AS n, coalesce(sum({hashed}), 0) AS h "
            f"FROM {quote_ident(table)} GROUP BY ALL"
        ).fetchall()
        parameters = {
            "parameters": {k: v for k, v in params.items() if k != "now"},
            "schema": columns,
            "read": read,
        }
        return cls(
            table=table,
            config_fingerprint=config_key,
            parameters_fingerprint=hashlib.sha256(
                json.dumps(parameters, sort_keys=True).encode()
            ).hexdigest(),
            parts={name: [int(n), int(h)] for name, n, h in rows},
            has_files=has_files,
        )

    def move_now(self, con, now_param) -> None:
        con.execute(
            "UPDATE quality_validation_state SET now_param = ? WHERE table_name = ?",
            [now_param.to_pydatetime(), self.table],
        )

    def save(self, con, row_outcomes, now_param, rows_validated: int, run_id, run_at) -> None:
        con.execute("DELETE FROM quality_validation_state WHERE table_name = ?", [self.table])
        con.execute(
            "INSERT INTO quality_validation_state (table_name, config_fingerprint, parameters_fingerprint, parts, "
            "now_param, row_outcomes, total_rows, rows_validated, run_id, validated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                self.table,
                self.config_fingerprint,
                self.parameters_fingerprint,
                json.dumps(self.parts, sort_keys=True),
                now_param.to_pydatetime(),
                json.dumps([asdict(o) for o in row_outcomes]),
                self.total_rows,
                rows_validated,
                run_id,
                run_at,
            ],
        )


@dataclass
class _ReusePlan:
    scope: str  # "validated" | "new rows" | "reused"
    new_files: list[str] | None = None
    previous_outcomes: list[ExpectationOutcome] = field(default_factory=list)
    previous_rows_validated: int = 0
    previous_run_id: str | None = None
    previous_validated_at: datetime | None = None


def _reuse_plan(con, table: str, state: _ContentState, now_param: pd.Timestamp, rows_suite) -> _ReusePlan:
    """Whether the last validation's row outcomes can stand (the rule in docs/quality.md, "Daily runs"):

    - same GX configuration (`config_fingerprint`), same suite parameters besides `now`, same table schema;
    - no ERROR outcome failed in it;
    - `now` (the bound of the not-in-the-future expectations) not earlier than then, and, if later, no such
      expectation failed then (a row in the future then may not be now; one in the past stays in the past);
    - then: the same content -> "reused"; a raw table whose earlier files are all unchanged and which only gained
      files, with a suite of row-local expectations -> "new rows"; otherwise -> "validated".
    """
    row = con.execute(
        "SELECT config_fingerprint, parameters_fingerprint, parts, now_param, row_outcomes, rows_validated, "
        "run_id, validated_at FROM quality_validation_state WHERE table_name = ?",
        [table],
    ).fetchone()
    if row is None:
        return _ReusePlan("validated")  # no earlier validation
    config, parameters, parts_json, previous_now, outcomes_json, rows_validated, run_id, validated_at = row
    if config != state.config_fingerprint:
        return _ReusePlan("validated")  # expectations changed
    if parameters != state.parameters_fingerprint:
        return _ReusePlan("validated")  # parameters or schema changed
    previous = [ExpectationOutcome(**o) for o in json.loads(outcomes_json)]
    if any(o.severity == "error" and not o.success for o in previous):
        return _ReusePlan("validated")  # the earlier validation failed
    now_checks = {
        (x.configuration.meta or {}).get("check") or x.configuration.type
        for x in rows_suite.expectations
        if NOW_PARAMETER in x.configuration.kwargs.values()
    }
    now_value = now_param.to_pydatetime()
    if now_value < previous_now or (
        now_value > previous_now and any(o.check in now_checks and not o.success for o in previous)
    ):
        return _ReusePlan("validated")  # `now` moved
    base = _ReusePlan(
        scope="reused",
        previous_outcomes=previous,
        previous_rows_validated=int(rows_validated),
        previous_run_id=run_id,
        previous_validated_at=validated_at,
    )
    earlier = {name: list(v) for name, v in json.loads(parts_json).items()}
    if earlier == state.parts:
        return base
    row_local = all(x.configuration.type in ROW_LOCAL_EXPECTATIONS for x in rows_suite.expectations)
    added = sorted(set(state.parts) - set(earlier))
    if (
        table.startswith("raw_")
        and state.has_files
        and row_local
        and added
        and all(state.parts.get(name) == value for name, value in earlier.items())
    ):
        base.scope, base.new_files = "new rows", added
        return base
    return _ReusePlan("validated")  # content changed


def _merge_outcomes(
    previous: list[ExpectationOutcome], new: list[ExpectationOutcome]
) -> list[ExpectationOutcome]:
    """The outcome over earlier rows and new rows: passes when both passed (failing counts are counted again over
    the whole table by `_record_failures`)."""
    earlier = {o.check: o for o in previous}
    merged = []
    for o in new:
        before = earlier.get(o.check)
        if before is not None:
            o.success = o.success and before.success
            if o.element_count is not None and before.element_count is not None:
                o.element_count += before.element_count
            if before.failing_count is not None and o.failing_count is not None:
                o.failing_count += before.failing_count
        merged.append(o)
    return merged


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


def _read_columns(columns: dict[str, str], meta: dict[str, Any]) -> list[str]:
    """The columns the row suite reads: its key columns and the columns it names, those present."""
    wanted = list(dict.fromkeys([*meta.get("key_columns", []), *meta.get("columns", [])]))
    return [c for c in wanted if c in columns]


def _read_rows(
    con, table: str, columns: dict[str, str], meta: dict[str, Any], only_files: list[str] | None = None
) -> pd.DataFrame:
    """The row suite's columns (a repeatable reservoir sample above `sample_rows`); `only_files`: only the rows
    of these `_source_file`s."""
    present = _read_columns(columns, meta)
    select = ", ".join(_select_expr(c, columns[c]) for c in present) or "1 AS _none"
    sample_rows = meta.get("sample_rows")
    sample = f" USING SAMPLE reservoir({int(sample_rows)} ROWS) REPEATABLE (42)" if sample_rows else ""
    source = quote_ident(table)
    if only_files is not None:
        source = f"(SELECT * FROM {source} WHERE _source_file IN (SELECT unnest($files)))"
    sql = f"SELECT {select} FROM {source}{sample}"
    frame = con.execute(sql, {"files": only_files} if only_files is not None else None).df()
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
    """Replace this table's rows in quality_failures with the keys failing in this run. The keys of a failed row
    expectation are selected in DuckDB over the whole table, also when its outcome was reused or merged from
    new rows (a WARN failure of an unchanged table lists the same keys again, with this run's time)."""
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


def _record_results(
    con, table: str, outcomes: list[ExpectationOutcome], run_at, rows_scope: str, rows_validated_at
) -> None:
    """Replace this table's rows in quality_check_results with one row per expectation of this run; `validation`
    says how the row suite's outcome was reached (the profile's is always 'validated')."""
    con.execute("DELETE FROM quality_check_results WHERE table_name = ?", [table])
    rows = [
        (o.qualified_name, table, o.severity, o.success, o.failing_count,
         None if o.observed is None else str(o.observed)[:OBSERVED_MAX_CHARS], run_at,
         rows_scope if o.suite == table else "validated",
         rows_validated_at if o.suite == table else run_at)
        for o in outcomes
    ]  # fmt: skip
    if rows:
        con.executemany(
            "INSERT INTO quality_check_results (check_name, table_name, severity, success, failing_count, "
            "observed_value, run_at, validation, validated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


def _record_volume(con, table: str, profile: pd.DataFrame, run_at, run_id, accepted: bool) -> None:
    rows = [
        (table, r["source"], int(r["row_count"]), run_at, run_id, accepted) for _, r in profile.iterrows()
    ]
    con.executemany("INSERT INTO quality_volume_history VALUES (?, ?, ?, ?, ?, ?)", rows)
