"""Build (or regenerate) the Great Expectations file context in `expectations/`.

The suites are written here as reviewable code; the committed JSON under `expectations/` is what runs.
Run after changing a threshold or adding an expectation:

    .venv/bin/python -m pipelines.lib.quality.build_suites            # rewrites expectations/
    .venv/bin/python -m pipelines.lib.quality.build_suites --check    # fails if the JSON is out of date

Each table gets two suites, each with a validation definition and a checkpoint:

- `<table>`: row-level expectations on the table's rows (read from DuckDB into pandas; a repeatable sample when
  the table has more rows than `sample_rows`);
- `<table>__profile`: table-level expectations on a small aggregate computed in DuckDB over the whole table,
  one row per source system: row count, ratio to the previous run's count (volume), age of the newest
  record (freshness) and the duplicate rate of the natural key.

Every expectation carries `meta = {"check": <name>, "severity": "error" | "warn"}`; thresholds (`mostly`,
bounds) live here and in the JSON, never in the runner. Keys, relationships and accepted values of dbt models are
tested by dbt (`dbt build`), so the mart suites do not repeat them.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipelines.lib.settings import DBT_PROJECT_DIR


def _dbt_var(name: str) -> Any:
    """A default of dbt_project.yml `vars:`: a rule that dbt and these suites share is written there once."""
    with (DBT_PROJECT_DIR / "dbt_project.yml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)["vars"][name]


# The one email rule (issue #18): dbt staging nulls an address that does not match it (macro normalise_email) and
# these suites check raw emails with it, so a row the raw suite passes keeps its email in staging.
EMAIL_REGEX: str = _dbt_var("email_pattern")
E164_REGEX = r"^\+[1-9][0-9]{6,14}$"
# digits with the usual separators; a national number may open with its area code in parentheses: (514) 169-6448
LOOSE_PHONE_REGEX = r"^\+?\(?[0-9][0-9 ().\-/]{5,24}$"
COUNTRY_CODE_REGEX = r"^[A-Z]{2}$"
NOW = {"$PARAMETER": "now"}  # the run's as-of time (+1 day of clock slack), passed by the runner

DATASOURCE = "touchplan"
ROWS_ASSET = "warehouse_rows"
PROFILE_ASSET = "warehouse_profiles"
PROFILE_SUFFIX = "__profile"

RAW_KEY = ["_source_file", "_source_line"]  # points at the exact line of the export to fix


@dataclass
class TableSpec:
    table: str
    key_columns: list[str]  # identifies a failing row in quality_failures
    columns: list[str]  # contract columns checked for presence (JSON blobs left out) and read into pandas
    rows: list[dict[str, Any]]  # row-level expectations: {"type", "kwargs", "check", "severity"}
    source_column: str | None = "source_system"  # the profile is per value of this column
    freshness_column: str | None = None
    duplicate_key: list[str] | None = None  # natural key for the duplicate rate (None: not measured)
    sample_rows: int | None = None  # validate a repeatable sample of this many rows when the table is larger
    volume_error_ratio: float | None = 0.7  # count / previous count below this -> ERROR (None: WARN only)
    volume_warn_ratio: float = 0.85
    volume_spike_ratio: float = 5.0
    freshness_days: float = 14
    freshness_severity: str = "warn"
    duplicate_rate_max: float = 0.01
    min_rows_severity: str | None = "warn"  # None: no rows_present check (an optional feed may be empty)
    profile_extra: list[dict[str, Any]] = field(default_factory=list)


def expectation(type_: str, check: str, severity: str, **kwargs: Any) -> dict[str, Any]:
    """One expectation of a suite: the GX expectation type, the check name it reports as, its severity, its kwargs."""
    return {"type": type_, "check": check, "severity": severity, "kwargs": kwargs}


SOURCE_SYSTEMS_PARAM = "source_systems"


def source_systems_allowed(*systems: str) -> dict[str, Any]:
    """`source_system` in the built-in systems of the table plus the custom sources config/sources.yaml declares
    for it (custom_csv rules): the runner passes the whole set as the `source_systems` suite parameter; the
    built-in ones are kept in the suite's meta."""
    item = expectation(
        "expect_column_values_to_be_in_set",
        "source_system_allowed",
        "error",
        column="source_system",
        value_set={"$PARAMETER": SOURCE_SYSTEMS_PARAM},
    )
    item["source_systems"] = list(systems)
    return item


def not_future(
    column: str, check: str, severity: str = "error", mostly: float | None = None
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"column": column, "max_value": NOW}
    if mostly is not None:
        kwargs["mostly"] = mostly
    return expectation("expect_column_values_to_be_between", check, severity, **kwargs)


def email_checks(column: str = "email", error_mostly: float = 0.8, warn_mostly: float = 0.98) -> list[dict]:
    """Two tiers: a broken export (many invalid addresses) is an ERROR; a few bad rows are a WARN."""
    return [
        expectation(
            "expect_column_values_to_match_regex",
            f"{column}_valid_error",
            "error",
            column=column,
            regex=EMAIL_REGEX,
            mostly=error_mostly,
        ),
        expectation(
            "expect_column_values_to_match_regex",
            f"{column}_valid",
            "warn",
            column=column,
            regex=EMAIL_REGEX,
            mostly=warn_mostly,
        ),
    ]


SPECS: list[TableSpec] = [
    TableSpec(
        table="raw_crm_contacts",
        key_columns=RAW_KEY,
        columns=[
            "source_system",
            "source_record_id",
            "record_type",
            "email",
            "first_name",
            "last_name",
            "phone",
            "mobile_phone",
            "title",
            "company",
            "country",
            "birth_date",
            "lifecycle_stage",
            "has_opted_out_of_email",
            "do_not_call",
            "employees",
            "annual_revenue",
            "budget",
            "time_zone",
            "created_at",
            "updated_at",
            "_source_file",
            "_source_line",
            "_file_hash",
            "_ingested_at",
        ],
        rows=[
            source_systems_allowed("salesforce", "hubspot", "zoho", "dynamics", "custom"),
            expectation(
                "expect_column_values_to_be_in_set",
                "record_type_allowed",
                "warn",
                column="record_type",
                value_set=["contact", "lead"],
            ),
            expectation(
                "expect_column_values_to_not_be_null",
                "source_record_id_present",
                "error",
                column="source_record_id",
            ),
            *email_checks(),
            expectation(
                "expect_column_values_to_match_regex",
                "phone_plausible",
                "warn",
                column="phone",
                regex=LOOSE_PHONE_REGEX,
                mostly=0.95,
            ),
            expectation(
                "expect_column_values_to_be_between",
                "employees_non_negative",
                "warn",
                column="employees",
                min_value=0,
            ),
            expectation(
                "expect_column_values_to_be_between",
                "annual_revenue_non_negative",
                "warn",
                column="annual_revenue",
                min_value=0,
            ),
            not_future("birth_date", "birth_date_not_future", severity="warn"),
            not_future("created_at", "created_at_not_future"),
            not_future("updated_at", "updated_at_not_future"),
        ],
        freshness_column="updated_at",
        duplicate_key=["source_system", "source_record_id"],
        sample_rows=1_500_000,
    ),
    TableSpec(
        table="raw_crm_deals",
        key_columns=RAW_KEY,
        columns=[
            "source_system",
            "deal_id",
            "deal_name",
            "amount",
            "currency",
            "stage",
            "is_closed",
            "is_won",
            "close_date",
            "created_at",
            "contact_source_record_id",
            "account_id",
            "product",
            "_source_file",
            "_source_line",
        ],
        rows=[
            expectation("expect_column_values_to_not_be_null", "deal_id_present", "error", column="deal_id"),
            expectation(
                "expect_column_values_to_be_between",
                "amount_non_negative",
                "warn",
                column="amount",
                min_value=0,
            ),
            expectation(
                "expect_column_values_to_match_regex",
                "currency_iso",
                "warn",
                column="currency",
                regex=r"^[A-Z]{3}$",
            ),
            not_future("created_at", "created_at_not_future"),
        ],
        freshness_column="created_at",
        duplicate_key=["source_system", "deal_id"],
        freshness_days=60,
        sample_rows=1_000_000,
    ),
    TableSpec(
        table="raw_email_events",
        key_columns=RAW_KEY,
        columns=[
            "source_system",
            "event_id",
            "message_id",
            "email",
            "event",
            "bounce_type",
            "asm_group_id",
            "campaign_id",
            "occurred_at",
            "_source_file",
            "_source_line",
        ],
        rows=[
            expectation(
                "expect_column_values_to_be_in_set",
                "event_allowed",
                "error",
                column="event",
                value_set=[
                    "processed",
                    "deferred",
                    "delivered",
                    "open",
                    "click",
                    "bounce",
                    "blocked",
                    "dropped",
                    "spamreport",
                    "unsubscribe",
                    "group_unsubscribe",
                    "group_resubscribe",
                ],
            ),
            expectation(
                "expect_column_values_to_be_in_set",
                "bounce_type_allowed",
                "warn",
                column="bounce_type",
                value_set=["bounce", "blocked"],
            ),
            expectation("expect_column_values_to_not_be_null", "event_id_present", "warn", column="event_id"),
            *email_checks(error_mostly=0.9),
            not_future("occurred_at", "occurred_at_not_future"),
        ],
        freshness_column="occurred_at",
        duplicate_key=["event_id"],
        sample_rows=500_000,
    ),
    TableSpec(
        table="raw_email_suppressions",
        key_columns=RAW_KEY,
        columns=[
            "source_system",
            "suppression_list",
            "email",
            "reason",
            "asm_group_id",
            "created_at",
            "_source_file",
            "_source_line",
        ],
        rows=[
            source_systems_allowed("sendgrid", "mailchimp"),
            expectation(
                "expect_column_values_to_be_in_set",
                "suppression_list_allowed",
                "error",
                column="suppression_list",
                value_set=[
                    "bounces",
                    "blocks",
                    "spam_reports",
                    "invalid_emails",
                    "global_unsubscribes",
                    "group_unsubscribes",
                ],
            ),
            # a suppression without an address cannot suppress anyone: that is an ERROR
            expectation("expect_column_values_to_not_be_null", "email_present", "error", column="email"),
            not_future("created_at", "created_at_not_future"),
        ],
        freshness_column="created_at",
        duplicate_key=["source_system", "suppression_list", "email", "asm_group_id"],
        duplicate_rate_max=0.05,
        freshness_days=30,
        # suppression lists are an optional export (bounces and unsubscribes also arrive as events): an empty
        # table is not a finding; once rows have arrived, the volume checks catch a list that shrinks
        min_rows_severity=None,
    ),
    TableSpec(
        table="raw_email_audience",
        key_columns=RAW_KEY,
        columns=[
            "source_system",
            "source_record_id",
            "list_status",
            "email",
            "first_name",
            "last_name",
            "phone",
            "member_rating",
            "optin_at",
            "confirm_at",
            "last_changed_at",
            "unsubscribed_at",
            "cleaned_at",
            "country_code",
            "_source_file",
            "_source_line",
        ],
        rows=[
            expectation(
                "expect_column_values_to_be_in_set",
                "list_status_allowed",
                "error",
                column="list_status",
                value_set=["subscribed", "unsubscribed", "cleaned"],
            ),
            *email_checks(),
            not_future("last_changed_at", "last_changed_at_not_future"),
            not_future("optin_at", "optin_at_not_future"),
        ],
        freshness_column="last_changed_at",
        duplicate_key=["source_system", "source_record_id"],
        sample_rows=1_500_000,
    ),
    TableSpec(
        table="raw_webinar_attendance",
        key_columns=RAW_KEY,
        columns=[
            "source_system",
            "webinar_id",
            "webinar_topic",
            "webinar_start_at",
            "role",
            "email",
            "name",
            "joined_at",
            "left_at",
            "duration_minutes",
            "is_guest",
            "_source_file",
            "_source_line",
        ],
        rows=[
            source_systems_allowed("zoom", "teams"),
            expectation(
                "expect_column_values_to_be_in_set",
                "role_allowed",
                "warn",
                column="role",
                value_set=["host", "panelist", "attendee", "other"],
            ),
            expectation(
                "expect_column_values_to_be_between",
                "duration_non_negative",
                "error",
                column="duration_minutes",
                min_value=0,
            ),
            expectation(
                "expect_column_pair_values_a_to_be_greater_than_b",
                "left_after_joined",
                "warn",
                column_A="left_at",
                column_B="joined_at",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            ),
            expectation(
                "expect_column_values_to_match_regex",
                "email_valid",
                "warn",
                column="email",
                regex=EMAIL_REGEX,
                mostly=0.9,
            ),
            not_future("joined_at", "joined_at_not_future"),
        ],
        freshness_column="joined_at",
        duplicate_key=None,  # one row per join/leave session: repeats are expected
        volume_error_ratio=None,
        freshness_days=90,
    ),
    TableSpec(
        table="raw_webinar_registrations",
        key_columns=RAW_KEY,
        columns=[
            "source_system",
            "webinar_id",
            "webinar_topic",
            "email",
            "first_name",
            "last_name",
            "registered_at",
            "approval_status",
            "country",
            "company",
            "title",
            "_source_file",
            "_source_line",
        ],
        rows=[
            source_systems_allowed("zoom", "teams"),
            expectation(
                "expect_column_values_to_match_regex",
                "email_valid",
                "warn",
                column="email",
                regex=EMAIL_REGEX,
                mostly=0.95,
            ),
            not_future("registered_at", "registered_at_not_future"),
        ],
        freshness_column="registered_at",
        duplicate_key=["source_system", "webinar_id", "email"],
        volume_error_ratio=None,
        freshness_days=90,
    ),
    # Marts: dbt tests their keys, relationships and accepted values; these suites cover the rest.
    TableSpec(
        table="dim_customers",
        key_columns=["customer_id"],
        columns=[
            "customer_id",
            "email",
            "first_name",
            "last_name",
            "full_name",
            "phone_e164",
            "title",
            "company",
            "employees",
            "country_code",
            "time_zone",
            "is_customer",
            "first_seen_at",
            "last_seen_at",
            "source_record_count",
        ],
        rows=[
            # the address a send goes to: invalid ones must not reach planning
            expectation(
                "expect_column_values_to_match_regex",
                "email_valid_error",
                "error",
                column="email",
                regex=EMAIL_REGEX,
                mostly=0.95,
            ),
            expectation(
                "expect_column_values_to_match_regex",
                "email_valid",
                "warn",
                column="email",
                regex=EMAIL_REGEX,
                mostly=0.999,
            ),
            expectation(
                "expect_column_values_to_match_regex",
                "phone_e164",
                "warn",
                column="phone_e164",
                regex=E164_REGEX,
                mostly=0.99,
            ),
            expectation(
                "expect_column_values_to_match_regex",
                "country_code_iso",
                "warn",
                column="country_code",
                regex=COUNTRY_CODE_REGEX,
            ),
            expectation(
                "expect_column_values_to_be_between",
                "employees_non_negative",
                "warn",
                column="employees",
                min_value=0,
            ),
            expectation(
                "expect_column_values_to_be_between",
                "source_record_count_positive",
                "error",
                column="source_record_count",
                min_value=1,
            ),
            not_future("first_seen_at", "first_seen_at_not_future"),
            expectation(
                "expect_column_pair_values_a_to_be_greater_than_b",
                "last_seen_after_first_seen",
                "warn",
                column_A="last_seen_at",
                column_B="first_seen_at",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            ),
        ],
        source_column=None,
        freshness_column="last_seen_at",
        freshness_days=30,
        duplicate_key=None,  # customer_id: unique + not_null in dbt
        volume_error_ratio=0.7,
        min_rows_severity="error",
    ),
    TableSpec(
        table="customer_consent",
        key_columns=["customer_id", "channel", "subscription_group"],
        columns=[
            "customer_id",
            "channel",
            "subscription_group",
            "consent_state",
            "reason",
            "asserted_by_source_system",
            "asserted_by_record_id",
            "asserted_at",
        ],
        rows=[
            expectation(
                "expect_column_values_to_match_regex",
                "subscription_group_format",
                "warn",
                column="subscription_group",
                # a group name of config/delivery.yaml asm_groups (marketing, newsletter...) or an ASM id config
                # does not know (kept under its number)
                regex=r"^([a-z][a-z0-9_]*|[0-9]+)$",
            ),
            # a known state (subscribed, unsubscribed, suppressed) names the source that asserted it; 'unknown'
            # means no source said anything, so it has none by definition and is left out
            expectation(
                "expect_column_values_to_not_be_null",
                "asserted_by_source_present",
                "warn",
                column="asserted_by_source_system",
                mostly=0.95,
                row_condition={
                    "type": "comparison",
                    "column": {"name": "consent_state"},
                    "operator": "!=",
                    "parameter": "unknown",
                },
            ),
            not_future("asserted_at", "asserted_at_not_future"),
        ],
        source_column="channel",
        freshness_column=None,
        duplicate_key=None,  # grain tested in dbt
        volume_error_ratio=0.7,  # consent that suddenly disappears would let suppressed people through
    ),
    TableSpec(
        table="fct_touchpoints",
        key_columns=["touchpoint_id"],
        columns=[
            "touchpoint_id",
            "customer_id",
            "source_system",
            "channel",
            "touchpoint_type",
            "is_marketing_contact",
            "campaign_id",
            "message_id",
            "value",
            "occurred_at",
        ],
        rows=[
            not_future("occurred_at", "occurred_at_not_future"),
            expectation(
                "expect_column_values_to_be_between",
                "value_non_negative",
                "warn",
                column="value",
                min_value=0,
            ),
            expectation(
                "expect_column_values_to_not_be_null",
                "is_marketing_contact_present",
                "warn",
                column="is_marketing_contact",
            ),
        ],
        freshness_column="occurred_at",
        freshness_days=30,
        duplicate_key=None,  # touchpoint_id: unique + not_null in dbt
        sample_rows=500_000,
        volume_error_ratio=None,
    ),
    # contact_plan is written by Python (planning), not dbt: its keys and allowed values are checked here.
    TableSpec(
        table="contact_plan",
        key_columns=["plan_run_id", "customer_id", "campaign_id", "channel"],
        columns=[
            "plan_run_id",
            "customer_id",
            "campaign_id",
            "channel",
            "template_id",
            "variant",
            "scheduled_at",
            "scheduled_local",
            "time_zone",
            "rules_version",
        ],
        rows=[
            expectation(
                "expect_compound_columns_to_be_unique",
                "plan_key_unique",
                "error",
                column_list=["plan_run_id", "customer_id", "campaign_id", "channel"],
            ),
            expectation(
                "expect_column_values_to_not_be_null", "customer_id_present", "error", column="customer_id"
            ),
            expectation(
                "expect_column_values_to_not_be_null", "scheduled_at_present", "error", column="scheduled_at"
            ),
            expectation(
                "expect_column_values_to_be_in_set",
                "channel_allowed",
                "error",
                column="channel",
                value_set=["email", "sales_task", "webinar_invite", "audience_file"],
            ),
            expectation(
                "expect_column_values_to_not_be_null",
                "time_zone_present",
                "warn",
                column="time_zone",
                mostly=0.9,
            ),
        ],
        source_column="channel",
        freshness_column=None,
        duplicate_key=None,
        volume_error_ratio=None,  # plans legitimately vary from run to run
        volume_warn_ratio=0.5,
        volume_spike_ratio=3.0,
    ),
]


def profile_expectations(spec: TableSpec) -> list[dict[str, Any]]:
    out = [
        expectation(
            "expect_table_columns_to_match_set",
            "profile_columns",
            "error",
            column_set=[
                "source",
                "row_count",
                "previous_row_count",
                "volume_ratio",
                "freshness_days",
                "duplicate_rate",
            ],
            exact_match=True,
        ),
    ]
    if spec.min_rows_severity is not None:
        out.append(
            expectation(
                "expect_column_values_to_be_between",
                "rows_present",
                spec.min_rows_severity,
                column="row_count",
                min_value=1,
            )
        )
    if spec.volume_error_ratio is not None:
        out.append(
            expectation(
                "expect_column_values_to_be_between",
                "volume_drop",
                "error",
                column="volume_ratio",
                min_value=spec.volume_error_ratio,
            )
        )
    out.append(
        expectation(
            "expect_column_values_to_be_between",
            "volume_change",
            "warn",
            column="volume_ratio",
            min_value=spec.volume_warn_ratio,
            max_value=spec.volume_spike_ratio,
        )
    )
    if spec.freshness_column:
        out.append(
            expectation(
                "expect_column_values_to_be_between",
                "freshness",
                spec.freshness_severity,
                column="freshness_days",
                max_value=spec.freshness_days,
            )
        )
    if spec.duplicate_key:
        out.append(
            expectation(
                "expect_column_values_to_be_between",
                "duplicate_rate",
                "warn",
                column="duplicate_rate",
                max_value=spec.duplicate_rate_max,
            )
        )
    return out + spec.profile_extra


def _suite_meta(spec: TableSpec, kind: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"table": spec.table, "kind": kind}
    if kind == "rows":
        meta.update(key_columns=spec.key_columns, columns=spec.columns, sample_rows=spec.sample_rows)
        systems = next((item["source_systems"] for item in spec.rows if "source_systems" in item), None)
        if systems is not None:
            meta["source_systems"] = systems
    else:
        meta.update(
            source_column=spec.source_column,
            freshness_column=spec.freshness_column,
            duplicate_key=spec.duplicate_key,
        )
    return meta


# SUMMARY counts without row values: the stored results and Data Docs never hold an address or a name (the failing
# keys are in quality_failures, selected in DuckDB). GX Core 1.x result_format keys.
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 0, "exclude_unexpected_values": True}


def build(context_root: Path) -> None:
    """Write the whole file context (config, suites, validation definitions, checkpoints) to `context_root`."""
    import great_expectations as gx
    from great_expectations.expectations.registry import get_expectation_impl

    for sub in ("expectations", "validation_definitions", "checkpoints"):
        shutil.rmtree(context_root / sub, ignore_errors=True)
    # great_expectations.yml puts results and Data Docs under ${touchplan_quality_dir} (the run's output folder);
    # building the suites writes neither, so any folder will do.
    context = gx.get_context(
        mode="file",
        context_root_dir=context_root,
        runtime_environment={"touchplan_quality_dir": tempfile.gettempdir() + "/touchplan_quality"},
    )
    context.variables.progress_bars = {"globally": False}
    context.enable_analytics(False)  # saves the variables too; no network calls from a pipeline run
    datasource = context.data_sources.add_or_update_pandas(DATASOURCE)
    assets = {}
    for name in (ROWS_ASSET, PROFILE_ASSET):
        try:
            assets[name] = datasource.get_asset(name)
        except LookupError:
            assets[name] = datasource.add_dataframe_asset(name)
        if name not in [bd.name for bd in assets[name].batch_definitions]:
            assets[name].add_batch_definition_whole_dataframe(name)

    for spec in SPECS:
        for kind, suffix, asset, expectations in (
            (
                "rows",
                "",
                ROWS_ASSET,
                [
                    expectation(
                        "expect_table_columns_to_match_set",
                        "schema",
                        "error",
                        column_set=spec.columns,
                        exact_match=False,
                    ),
                    *spec.rows,
                ],
            ),
            ("profile", PROFILE_SUFFIX, PROFILE_ASSET, profile_expectations(spec)),
        ):
            name = spec.table + suffix
            suite = gx.ExpectationSuite(name=name, meta=_suite_meta(spec, kind))
            for item in expectations:
                impl = get_expectation_impl(item["type"])
                suite.add_expectation(
                    impl(**item["kwargs"], meta={"check": item["check"], "severity": item["severity"]})
                )
            suite = context.suites.add(suite)
            batch_definition = assets[asset].get_batch_definition(asset)
            validation = context.validation_definitions.add(
                gx.ValidationDefinition(name=name, data=batch_definition, suite=suite)
            )
            # No actions: the runner builds Data Docs once for all results of a check.
            context.checkpoints.add(
                gx.Checkpoint(name=name, validation_definitions=[validation], result_format=RESULT_FORMAT)
            )


def _normalised_tree(root: Path) -> dict[str, Any]:
    """The committed JSON minus ids that GX regenerates on every build."""
    out = {}
    for sub in ("expectations", "validation_definitions", "checkpoints"):
        for path in sorted((root / sub).glob("*.json")):
            data = json.loads(path.read_text())
            out[f"{sub}/{path.name}"] = _strip_ids(data)
    return out


def _strip_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_ids(v) for k, v in value.items() if k != "id"}
    if isinstance(value, list):
        return [_strip_ids(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    from pipelines.lib.settings import EXPECTATIONS_DIR

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=EXPECTATIONS_DIR, help="the GX context root directory")
    parser.add_argument("--check", action="store_true", help="fail if the committed suites are out of date")
    args = parser.parse_args(argv)
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            fresh = Path(tmp) / "expectations"
            build(fresh)
            if _normalised_tree(fresh) != _normalised_tree(args.root):
                print(
                    f"{args.root}: suites differ from build_suites.py; run "
                    "`python -m pipelines.lib.quality.build_suites`",
                    file=sys.stderr,
                )
                return 1
        print(f"{args.root}: suites match build_suites.py")
        return 0
    build(args.root)
    print(f"wrote {len(SPECS) * 2} suites to {args.root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
