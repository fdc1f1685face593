"""The rows an expectation rejects, as DuckDB SQL over the whole table.

GX's pandas engine can return failing indexes (`result_format=COMPLETE`), but at 1M rows that takes minutes
(measured: 228 s for one regex expectation with 333k failures, against 6 s for SUMMARY). So the runner validates
with SUMMARY and, for the expectations that failed, selects the failing keys in DuckDB with the same predicate
GX applies (nulls are ignored except by not_null; regexes are searched, as pandas' `str.contains` does).
Only the row-level expectation types used by the suites are translated; others return None (no keys recorded).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipelines.lib.sql import quote_ident, sql_literal


def _resolve(value: Any, params: dict[str, Any]) -> Any:
    if isinstance(value, dict) and "$PARAMETER" in value:
        return params[value["$PARAMETER"]]
    return value


def _col(name: str, columns: dict[str, str]) -> str:
    q = quote_ident(name)
    if columns.get(name, "").startswith("TIMESTAMP WITH TIME ZONE"):
        return f"timezone('UTC', {q})"
    return q


def _bound(value: Any, dtype: str) -> str:
    """A literal for min_value/max_value, typed like the column it is compared with."""
    if isinstance(value, pd.Timestamp) or (dtype.startswith(("TIMESTAMP", "DATE")) and value is not None):
        return f"CAST({sql_literal(pd.Timestamp(value))} AS TIMESTAMP)"
    return sql_literal(value)


COMPARISONS = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def _condition_dict(condition: Any) -> dict[str, Any] | None:
    if condition is None or isinstance(condition, dict):
        return condition
    if hasattr(condition, "dict"):  # a GX Condition (pydantic model)
        return condition.dict()
    return {"type": "unsupported"}


def row_condition_sql(condition: Any, columns: dict[str, str]) -> str | None:
    """The SQL of a GX row condition (`Column("state") != "unknown"`): "TRUE" when there is none, None when it
    cannot be translated (only single comparisons are). Rows where the condition is null are left out, as GX does."""
    cond = _condition_dict(condition)
    if cond is None:
        return "TRUE"
    if cond.get("type") != "comparison" or cond.get("operator") not in COMPARISONS:
        return None
    name = (cond.get("column") or {}).get("name")
    if name not in columns:
        return None
    return f"{_col(name, columns)} {COMPARISONS[cond['operator']]} {sql_literal(cond.get('parameter'))}"


def failing_rows_sql(
    config, table: str, columns: dict[str, str], key_columns: list[str], params: dict[str, Any]
) -> str | None:
    """SQL selecting `key_value, observed_value` for the rows failing `config` (an ExpectationConfiguration)."""
    kw = {k: _resolve(v, params) for k, v in config.kwargs.items()}
    condition = row_condition_sql(kw.pop("row_condition", None), columns)
    if condition is None:
        return None
    key_value = "concat_ws('|', " + ", ".join(f"CAST({quote_ident(c)} AS VARCHAR)" for c in key_columns) + ")"
    column = kw.get("column")
    if column is not None and column not in columns:
        return None
    c = _col(column, columns) if column else None
    kind = config.type
    if kind == "expect_column_values_to_not_be_null":
        predicate, observed = f"{c} IS NULL", "NULL"
    elif kind == "expect_column_values_to_match_regex":
        predicate = (
            f"{c} IS NOT NULL AND NOT regexp_matches(CAST({c} AS VARCHAR), {sql_literal(kw['regex'])})"
        )
        observed = c
    elif kind == "expect_column_values_to_be_in_set":
        values = ", ".join(sql_literal(v) for v in kw["value_set"])
        predicate, observed = f"{c} IS NOT NULL AND CAST({c} AS VARCHAR) NOT IN ({values})", c
    elif kind == "expect_column_values_to_be_between":
        dtype = columns[column]
        parts = []
        if kw.get("min_value") is not None:
            op = "<=" if kw.get("strict_min") else "<"
            parts.append(f"{c} {op} {_bound(kw['min_value'], dtype)}")
        if kw.get("max_value") is not None:
            op = ">=" if kw.get("strict_max") else ">"
            parts.append(f"{c} {op} {_bound(kw['max_value'], dtype)}")
        if not parts:
            return None
        predicate, observed = f"{c} IS NOT NULL AND ({' OR '.join(parts)})", c
    elif kind == "expect_column_pair_values_a_to_be_greater_than_b":
        a, b = kw["column_A"], kw["column_B"]
        if a not in columns or b not in columns:
            return None
        ca, cb = _col(a, columns), _col(b, columns)
        op = ">=" if kw.get("or_equal") else ">"
        predicate = f"{ca} IS NOT NULL AND {cb} IS NOT NULL AND NOT ({ca} {op} {cb})"
        observed = f"concat_ws(' vs ', CAST({ca} AS VARCHAR), CAST({cb} AS VARCHAR))"
    elif kind in ("expect_compound_columns_to_be_unique", "expect_column_values_to_be_unique"):
        cols = kw.get("column_list") or [column]
        if any(col not in columns for col in cols):
            return None
        part = ", ".join(quote_ident(col) for col in cols)
        not_all_null = " OR ".join(f"{quote_ident(col)} IS NOT NULL" for col in cols)
        return (
            f"SELECT {key_value} AS key_value, 'repeated ' || CAST(n AS VARCHAR) || ' times' AS observed_value "
            f"FROM (SELECT *, count(*) OVER (PARTITION BY {part}) AS n FROM {quote_ident(table)} "
            f"WHERE ({not_all_null}) AND {condition}) WHERE n > 1"
        )
    else:
        return None
    return (
        f"SELECT {key_value} AS key_value, CAST({observed} AS VARCHAR) AS observed_value "
        f"FROM {quote_ident(table)} WHERE ({predicate}) AND {condition}"
    )
