"""The core marts of the single customer view (issue #4) built by real `dbt build` on a hand-made raw dataset
(tests/integration/core_marts_dataset.py: raw tables per the contracts plus identity_clusters / identity_edges)
in a temporary DuckDB: golden-record choices and their sources, consent precedence with lineage, touchpoint
dedupe, merge suggestions and the CRM fix files."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.config.dbt_vars import collect_dbt_vars
from pipelines.lib.crm_fixes import write_crm_fix_files
from pipelines.lib.settings import PROJECT_ROOT, Settings
from tests.integration import core_marts_dataset
from tests.integration.dbt_runner import run_dbt
from tests.integration.documented_schema import schema_drift

pytestmark = pytest.mark.xdist_group("core_marts")

CORE_MARTS = [
    "dim_customers",
    "customer_crosswalk",
    "customer_consent",
    "fct_touchpoints",
    "crm_merge_suggestions",
]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    work = tmp_path_factory.mktemp("core_marts")
    warehouse = work / "warehouse.duckdb"
    core_marts_dataset.build(str(warehouse))
    settings = Settings.from_env(warehouse=warehouse, config_dir=PROJECT_ROOT / "config")
    dbt_vars = collect_dbt_vars(settings)
    # every core mart with everything upstream (seeds, staging, int_identity_records) and all their tests
    run_dbt(
        warehouse,
        work,
        ["build", "--indirect-selection", "cautious", "--select", *[f"+{m}" for m in CORE_MARTS]],
        dbt_vars,
    )
    return work, warehouse, dbt_vars


def query(warehouse: Path, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_marts_planning_reads_have_exactly_their_documented_columns_and_types(built):
    """Planning's stand-ins come from the YAML: a column added to a mart and not documented fails here."""
    _, warehouse, _ = built
    tables = ["dim_customers", "customer_consent", "fct_touchpoints", "customer_id_lineage"]
    assert schema_drift(warehouse, tables) == {}


def test_crosswalk_has_every_source_record_with_its_rule(built):
    _, warehouse, _ = built
    rows = query(
        warehouse, "select record_key, customer_id, match_rule, match_weight from customer_crosswalk"
    )
    assert {r[0]: r[1] for r in rows} == {k: v[0] for k, v in core_marts_dataset.CLUSTERS.items()}
    assert ("hubspot:302", "cust_C", "splink", 12.5) in rows


def test_golden_record_follows_survivorship_config_with_sources(built):
    _, warehouse, _ = built
    row = query(
        warehouse,
        """
        select email, email_source, first_name, last_name, name_source, title, title_source, seniority, company,
               company_source, phone_e164, phone_e164_source, country_code, is_customer, source_record_count,
               source_systems
        from dim_customers where customer_id = 'cust_A'""",
    )[0]
    assert row[0:2] == ("bob.smith@acme.com", "hubspot:101")  # email: most_recent
    assert row[2:5] == ("Robert", "Smith", "salesforce:003A")  # name: source_priority (salesforce first)
    assert row[5:8] == ("Chief Marketing Officer", "hubspot:101", "c_level")  # title: most_recent
    assert row[8:10] == ("Acme Inc.", "salesforce:003A")  # company: source_priority
    assert row[10:12] == ("+14155552671", "hubspot:101")
    assert row[12] == "US"
    assert row[13] is True  # closed-won Salesforce opportunity
    assert row[14] == 5
    assert row[15] == ["hubspot", "mailchimp", "salesforce", "sendgrid", "zoom"]
    b = query(
        warehouse,
        "select first_name, last_name, name_source, is_customer from dim_customers "
        "where customer_id = 'cust_B'",
    )[0]
    # the newest Salesforce lead has only a first name: a complete name pair is preferred
    assert b == ("Zoë", "Müller", "salesforce:00QB1", False)
    assert query(warehouse, "select count(*), count(distinct customer_id) from dim_customers")[0] == (6, 6)


def test_changing_the_rule_changes_the_chosen_value(built):
    work, warehouse, dbt_vars = built
    changed = json.loads(json.dumps(dbt_vars))
    changed["survivorship"]["attributes"]["title"] = {"rule": "source_priority"}
    run_dbt(warehouse, work, ["run", "--select", "dim_customers"], changed)
    try:
        assert query(
            warehouse, "select title, title_source, seniority from dim_customers where customer_id = 'cust_A'"
        )[0] == ("VP Marketing", "salesforce:003A", "vp")
    finally:
        run_dbt(warehouse, work, ["run", "--select", "dim_customers"], dbt_vars)


def test_without_a_survivorship_file_the_dbt_defaults_apply(built, tmp_path):
    work, warehouse, dbt_vars = built
    # a config folder with every shipped file but survivorship.yaml: no `survivorship` var reaches dbt, so the
    # macro's default applies (source_priority for every attribute, Salesforce first)
    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    (config / "survivorship.yaml").unlink()
    without = collect_dbt_vars(Settings.from_env(warehouse=warehouse, config_dir=config))
    assert "survivorship" not in without
    run_dbt(warehouse, work, ["run", "--select", "dim_customers"], without)
    try:
        row = query(
            warehouse,
            "select email, email_source, title, title_source, phone_e164_source, name_source "
            "from dim_customers where customer_id = 'cust_A'",
        )[0]
        # the shipped file picks HubSpot 101 (newer) for email, title and phone (most_recent); the default
        # takes every attribute from Salesforce 003A
        assert row == (
            "bob.smith@acme.com", "salesforce:003A", "VP Marketing", "salesforce:003A", "salesforce:003A",
            "salesforce:003A",
        )  # fmt: skip
    finally:
        run_dbt(warehouse, work, ["run", "--select", "dim_customers"], dbt_vars)


def test_unsubscribe_in_one_source_wins_over_subscribe_in_another_with_lineage(built):
    _, warehouse, _ = built
    consent = {
        (r[0], r[1], r[2]): r[3:]
        for r in query(
            warehouse,
            """
            select customer_id, channel, subscription_group, consent_state, reason, asserted_by_source_system,
                   asserted_by_record_id, evidence_id, asserted_at::varchar
            from customer_consent""",
        )
    }
    # Mailchimp says subscribed; SendGrid's unsubscribe wins and keeps its record, event and time
    assert consent[("cust_A", "email", "marketing")] == (
        "unsubscribed",
        "unsubscribe",
        "sendgrid",
        "bob.smith@acme.com",
        "sendgrid:ev3",
        "2026-02-01 10:00:00",
    )
    assert consent[("cust_B", "phone", "marketing")][:4] == (
        "unsubscribed",
        "hubspot do not call",
        "hubspot",
        "202",
    )
    # group 42: resubscribed after its unsubscribe; group 43: unsubscribed after its resubscribe
    assert consent[("cust_B", "email", "42")][0:2] == ("subscribed", "group_resubscribe")
    assert consent[("cust_B", "email", "43")][0:2] == ("unsubscribed", "group_unsubscribe")
    assert consent[("cust_C", "email", "marketing")][:3] == ("suppressed", "mailchimp cleaned", "mailchimp")
    assert consent[("cust_D", "email", "marketing")] == ("unknown", None, None, None, None, None)
    assert consent[("cust_D", "phone", "marketing")][0] == "unknown"


def test_touchpoints_count_each_email_event_once_and_webinar_minutes(built):
    _, warehouse, _ = built
    rows = query(
        warehouse,
        """
        select touchpoint_type, count(*), sum(is_marketing_contact::int), sum(value)
        from fct_touchpoints where customer_id = 'cust_A' group by 1 order by 1""",
    )
    by_type = {r[0]: r[1:] for r in rows}
    assert by_type["delivered"] == (1, 1, None)  # ev1 was exported twice
    assert by_type["open"] == (1, 0, None)
    assert by_type["unsubscribe"][0] == 1
    assert by_type["attended"] == (1, 0, 50.0)  # two sessions: 20 + 30 minutes
    assert by_type["registered"][0] == 1
    assert by_type["deal_created"] == (1, 0, 50000.0)
    assert by_type["deal_won"] == (1, 0, 50000.0)
    assert by_type["crm_created"][0] == 2
    assert (
        query(
            warehouse,
            "select count(*) from fct_touchpoints where customer_id = 'cust_C' "
            "and touchpoint_type = 'deal_lost'",
        )[0][0]
        == 1
    )


def test_merge_suggestions_and_crm_fix_files(built, tmp_path):
    _, warehouse, _ = built
    rows = query(
        warehouse,
        """
        select source_system, object_type, survivor_record_id, duplicate_record_id, customer_id, evidence,
               match_weight, match_probability, agreed_comparisons
        from crm_merge_suggestions order by source_system""",
    )
    assert rows == [
        # dyn-1 fills more attributes; the Splink edge is the evidence
        (
            "dynamics",
            "contact",
            "dyn-1",
            "dyn-2",
            "cust_F",
            "splink",
            9.0,
            0.998,
            "last name: exact match (+9.9); company: exact match (+6.2)",
        ),
        # 302 fills more attributes: the pair's evidence is found whichever side is the survivor
        (
            "hubspot",
            "contact",
            "302",
            "301",
            "cust_C",
            "splink",
            12.5,
            0.9998,
            "first name: exact match (+7.1); last name: exact match (+9.9)",
        ),
        ("salesforce", "lead", "00QB1", "00QB2", "cust_B", "email", None, 0.7, "email: exact match (+11.0)"),
        (
            "zoho",
            "contact",
            "zc1",
            "zc2",
            "cust_E",
            "email",
            None,
            0.996,
            "first name: exact match (+7.0); email: exact match (+11.0)",
        ),
    ]
    side_by_side = query(
        warehouse,
        """
        select survivor_name, duplicate_name, survivor_email, duplicate_email, survivor_company, duplicate_company,
               survivor_created_at, duplicate_created_at, survivor_updated_at, duplicate_updated_at
        from crm_merge_suggestions where source_system = 'salesforce'""",
    )
    assert side_by_side == [
        (
            "Zoë Müller",
            "Zoe",
            "zoe.mueller@example.de",
            "zoe.mueller@example.de",
            "Beispiel GmbH",
            None,
            datetime(2023, 5, 1, 9),
            datetime(2025, 2, 1, 9),
            datetime(2025, 5, 1, 9),
            datetime(2025, 9, 1, 9),
        ),
    ]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        paths = write_crm_fix_files(con, tmp_path, as_of=date(2026, 4, 2))
    finally:
        con.close()
    contents = {p.name: list(csv.reader(p.open())) for p in paths}
    assert contents["salesforce_merge_leads_2026-04-02.csv"][1] == [
        "00QB1",
        "00QB2",
        "email",
        "0.700000",
        "email: exact match (+11.0)",
        "Zoë Müller",
        "Zoe",
        "zoe.mueller@example.de",
        "zoe.mueller@example.de",
        "Beispiel GmbH",
        "",
        "2023-05-01T09:00:00Z",
        "2025-02-01T09:00:00Z",
        "2025-05-01T09:00:00Z",
        "2025-09-01T09:00:00Z",
    ]
    assert len(contents["salesforce_merge_contacts_2026-04-02.csv"]) == 1  # header only
    assert [r[:4] for r in contents["hubspot_merge_2026-04-02.csv"]] == [
        ["primaryObjectId", "objectIdToMerge", "Evidence", "MatchProbability"],
        ["302", "301", "splink", "0.999800"],
    ]
    assert [r[:2] for r in contents["zoho_merge_2026-04-02.csv"]] == [
        ["MasterRecordId", "DuplicateRecordId"],
        ["zc1", "zc2"],
    ]
    assert [r[:2] for r in contents["dynamics_merge_2026-04-02.csv"]] == [
        ["TargetId", "SubordinateId"],
        ["dyn-1", "dyn-2"],
    ]
