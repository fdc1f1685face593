"""Audience expressions: parsed with sqlglot, checked against the customer model, compiled to safe SQL.

An audience is a boolean expression over the planning customer model, for example
``lifecycle_stage in ('lead', 'mql') and lead_score >= 60 and not has_moment('first_purchase')``.
Only the columns in CUSTOMER_MODEL_COLUMNS, literals, the operators below and the functions in FUNCTIONS are
accepted; anything else (subqueries, statements, unknown columns or functions, qualified names, comments that
hide SQL) is an error naming the source (file, campaign) and the offending token. The compiled SQL is generated
by sqlglot from the checked tree, so no string from config reaches the warehouse unchecked.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from pipelines.lib.config_loader import ConfigError

# Column -> DuckDB type of the planning customer model (built in model.py from the upstream tables).
CUSTOMER_MODEL_COLUMNS: dict[str, str] = {
    # dim_customers
    "customer_id": "VARCHAR",
    "title": "VARCHAR",
    "seniority": "VARCHAR",
    "company": "VARCHAR",
    "industry": "VARCHAR",
    "employees": "INTEGER",
    "country_code": "VARCHAR",
    "time_zone": "VARCHAR",
    "is_customer": "BOOLEAN",
    "first_seen_at": "TIMESTAMP",
    "last_seen_at": "TIMESTAMP",
    "source_record_count": "INTEGER",
    # customer_lifecycle
    "lifecycle_stage": "VARCHAR",
    "stage_entered_at": "TIMESTAMP",
    "tenure_days": "INTEGER",
    # lead_scores
    "lead_score": "DOUBLE",
    "fit_score": "DOUBLE",
    "engagement_score": "DOUBLE",
    "budget_score": "DOUBLE",
    "authority_score": "DOUBLE",
    "need_score": "DOUBLE",
    "timeframe_score": "DOUBLE",
    "is_mql": "BOOLEAN",
    "is_sales_ready": "BOOLEAN",
    # customer_rfv
    "recency_days": "INTEGER",
    "frequency": "DOUBLE",
    "value": "DOUBLE",
    "r_score": "INTEGER",
    "f_score": "INTEGER",
    "v_score": "INTEGER",
    "rfv_segment": "VARCHAR",
    # customer_personas
    "persona": "VARCHAR",
    # customer_consent (email, marketing group)
    "email_consent_state": "VARCHAR",
}

# Functions an audience may call: name -> (min args, max args, description).
FUNCTIONS: dict[str, tuple[int, int, str]] = {
    "has_moment": (
        1,
        2,
        "has_moment('name'[, within_days]): the customer had this moment (in the last N days)",
    ),
    "days_since": (1, 1, "days_since(column): whole days from a timestamp column to the as-of time"),
    "lower": (1, 1, "lower(text)"),
    "upper": (1, 1, "upper(text)"),
    "coalesce": (2, 8, "coalesce(a, b, ...)"),
    "abs": (1, 1, "abs(number)"),
    "least": (2, 8, "least(a, b, ...)"),
    "greatest": (2, 8, "greatest(a, b, ...)"),
}

_BUILTIN_FUNCTIONS: dict[type[exp.Expression], str] = {
    exp.Lower: "lower",
    exp.Upper: "upper",
    exp.Coalesce: "coalesce",
    exp.Abs: "abs",
    exp.Least: "least",
    exp.Greatest: "greatest",
}

_ALLOWED_NODES: set[type[exp.Expression]] = {
    exp.And, exp.Or, exp.Not, exp.Paren,
    exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ,
    exp.In, exp.Between, exp.Is, exp.Like, exp.ILike,
    exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Neg,
    exp.Literal, exp.Boolean, exp.Null, exp.Column, exp.Identifier, exp.Anonymous,
    *_BUILTIN_FUNCTIONS,
}  # fmt: skip

AS_OF_SQL = "getvariable('touchplan_as_of')"
MODEL_ALIAS = "customer"
MOMENTS_TABLE = "_plan_moments"


class AudienceError(ConfigError):
    """An audience expression that is not allowed; the message names where it came from and the token."""


def _token(node: exp.Expression) -> str:
    try:
        return node.sql(dialect="duckdb")[:80]
    except Exception:  # noqa: BLE001 - only for the message
        return type(node).__name__


def _fail(source: str, problem: str) -> AudienceError:
    return AudienceError(f"{source}: {problem}")


def parse_audience(expression: str, source: str) -> exp.Expression:
    """Parse and check; returns the checked sqlglot tree."""
    if not expression or not expression.strip():
        raise _fail(source, "the audience expression is empty")
    try:
        statements = sqlglot.parse(expression, dialect="duckdb")
    except sqlglot.errors.SqlglotError as exc:
        raise _fail(source, f"cannot parse audience expression: {str(exc).splitlines()[0]}") from exc
    statements = [s for s in statements if s is not None]
    if len(statements) != 1:
        raise _fail(source, f"an audience is one expression, found {len(statements)} statements")
    tree = statements[0]
    for node in tree.walk():
        if node.comments:
            raise _fail(source, "comments are not allowed in an audience expression")
        kind = type(node)
        if kind not in _ALLOWED_NODES:
            raise _fail(source, f"'{_token(node)}' is not allowed (a {kind.__name__.lower()}); "
                        "use columns of the customer model, literals, comparisons, and/or/not, in, between, "
                        f"like, is null and the functions {', '.join(sorted(FUNCTIONS))}")  # fmt: skip
        if kind is exp.In and (node.args.get("query") is not None or node.args.get("unnest") is not None):
            raise _fail(source, f"'{_token(node)}': 'in' takes a list of literals, not a subquery")
        if kind is exp.In:
            for item in node.expressions:
                if not isinstance(item, exp.Literal | exp.Neg | exp.Null | exp.Boolean):
                    raise _fail(source, f"'{_token(item)}' in an 'in' list must be a literal")
        if kind is exp.Column:
            if node.table or node.args.get("db") or node.args.get("catalog"):
                raise _fail(source, f"'{_token(node)}': qualified names are not allowed, use the bare column")
            if node.name not in CUSTOMER_MODEL_COLUMNS:
                raise _fail(
                    source,
                    f"unknown column '{node.name}' (known: {', '.join(sorted(CUSTOMER_MODEL_COLUMNS))})",
                )
        if kind is exp.Identifier and not isinstance(node.parent, exp.Column):
            raise _fail(source, f"'{node.name}' is not allowed here")
        if kind is exp.Anonymous or kind in _BUILTIN_FUNCTIONS:
            name = node.name.lower() if kind is exp.Anonymous else _BUILTIN_FUNCTIONS[kind]
            if name not in FUNCTIONS:
                raise _fail(
                    source, f"unknown function '{node.name}' (allowed: {', '.join(sorted(FUNCTIONS))})"
                )
            if kind is exp.Anonymous:
                flat = list(node.expressions)
            else:
                args = [a for a in node.args.values() if a is not None]
                flat = [x for a in args for x in (a if isinstance(a, list) else [a])]
                flat = [x for x in flat if isinstance(x, exp.Expression)]
            low, high, usage = FUNCTIONS[name]
            if not low <= len(flat) <= high:
                raise _fail(source, f"'{_token(node)}': wrong number of arguments, usage {usage}")
            if name == "has_moment":
                _check_has_moment(node, flat, source)
            if name == "days_since" and not isinstance(flat[0], exp.Column):
                raise _fail(source, f"'{_token(node)}': days_since takes a column")
    return tree


def _check_has_moment(node: exp.Expression, args: list[exp.Expression], source: str) -> None:
    if not (isinstance(args[0], exp.Literal) and args[0].is_string):
        raise _fail(source, f"'{_token(node)}': the moment name must be a quoted string")
    if len(args) == 2 and not (isinstance(args[1], exp.Literal) and not args[1].is_string and args[1].is_int):
        raise _fail(source, f"'{_token(node)}': within_days must be a whole number")


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Column):
        return exp.column(node.name, table=MODEL_ALIAS, quoted=True)
    if isinstance(node, exp.Anonymous):
        name = node.name.lower()
        args = node.expressions
        if name == "has_moment":
            moment = exp.Literal.string(args[0].this).sql(dialect="duckdb")
            since = ""
            if len(args) == 2:
                since = f" AND m.occurred_at >= {AS_OF_SQL} - INTERVAL {int(args[1].this)} DAY"
            return sqlglot.parse_one(
                f"{MODEL_ALIAS}.customer_id IN (SELECT m.customer_id FROM {MOMENTS_TABLE} AS m "
                f"WHERE m.moment = {moment}{since} AND m.occurred_at <= {AS_OF_SQL})",
                dialect="duckdb",
            )
        if name == "days_since":
            column = exp.column(args[0].name, table=MODEL_ALIAS, quoted=True).sql(dialect="duckdb")
            return sqlglot.parse_one(f"date_diff('day', {column}, {AS_OF_SQL})", dialect="duckdb")
    return node


def compile_audience(expression: str, source: str) -> str:
    """Checked expression -> DuckDB SQL over the planning model aliased `customer` (see model.py)."""
    tree = parse_audience(expression, source)
    compiled = tree.copy().transform(_rewrite)
    return "(" + compiled.sql(dialect="duckdb", comments=False) + ")"
