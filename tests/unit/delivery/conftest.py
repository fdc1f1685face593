"""A small warehouse with a contact plan on every channel, and a config folder with delivery.yaml."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.delivery.config import PLACEHOLDER_TEMPLATE_ID
from pipelines.lib.settings import PROJECT_ROOT, Settings

TEST_TEMPLATE_ID = "d-5e0e1e2e3e4e5e6e7e8e9eaebecedeef"

# Scheduled one day ahead (inside SendGrid's 72 h window), at a fixed hour.
SCHEDULED = (datetime.now(UTC) + timedelta(days=1)).replace(
    hour=9, minute=30, second=0, microsecond=0, tzinfo=None
)

CUSTOMERS = [
    # customer_id, email, first_name, last_name, company
    ("cu_001", "ada.lovelace@example.com", "Ada", "Lovelace", "Analytical Engines"),
    ("cu_002", "grace.hopper@example.org", "Grace", "Hopper", "Navy"),
    ("cu_003", None, "Alan", "Turing", "Bletchley"),
    ("cu_004", "edsger@example.net", "Edsger", "Dijkstra", None),
]

PLAN = [
    # customer_id, campaign_id, channel, template_id, variant
    ("cu_001", "welcome", "email", "d-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "a"),
    ("cu_002", "welcome", "email", "welcome_v2", "b"),
    ("cu_003", "welcome", "email", "welcome_v2", "a"),  # no email address: recorded as failed
    ("cu_004", "webinar_nov", "webinar_invite", "webinar_invite", None),
    ("cu_001", "enterprise_followup", "sales_task", "call_script", None),
    (
        "cu_004",
        "enterprise_followup",
        "sales_task",
        "call_script",
        None,
    ),  # only a Zoho record: no CRM task file
    ("cu_001", "lookalike", "audience_file", "ads", None),
    ("cu_002", "lookalike", "audience_file", "ads", None),
]


def make_warehouse(path: Path, plan_run_id: str = "run_001", plan=PLAN, scheduled=SCHEDULED) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute("""CREATE OR REPLACE TABLE dim_customers (customer_id VARCHAR, email VARCHAR,
                       first_name VARCHAR, last_name VARCHAR, company VARCHAR)""")
        con.executemany("INSERT INTO dim_customers VALUES (?, ?, ?, ?, ?)", CUSTOMERS)
        con.execute("""CREATE OR REPLACE TABLE contact_plan (plan_run_id VARCHAR, customer_id VARCHAR,
                       campaign_id VARCHAR, channel VARCHAR, template_id VARCHAR, variant VARCHAR,
                       scheduled_at TIMESTAMP, scheduled_local TIMESTAMP, time_zone VARCHAR,
                       rules_version VARCHAR)""")
        con.executemany(
            "INSERT INTO contact_plan VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'Europe/London', 'rv1')",
            [(plan_run_id, c, camp, ch, t, v, scheduled, scheduled) for c, camp, ch, t, v in plan],
        )
        con.execute("""CREATE OR REPLACE TABLE customer_crosswalk (source_system VARCHAR, source_record_id VARCHAR,
                       customer_id VARCHAR, match_rule VARCHAR, match_weight DOUBLE)""")
        con.execute("""INSERT INTO customer_crosswalk VALUES
                       ('salesforce', '003AAAAAAAAAAAAAAA', 'cu_001', 'email', NULL),
                       ('salesforce', '00QBBBBBBBBBBBBBBB', 'cu_001', 'email', NULL),
                       ('zoho', '1234', 'cu_004', 'email', NULL)""")
        con.execute("""CREATE OR REPLACE TABLE raw_crm_contacts (source_system VARCHAR, source_record_id VARCHAR,
                       record_type VARCHAR, owner_id VARCHAR, updated_at TIMESTAMP)""")
        con.execute("""INSERT INTO raw_crm_contacts VALUES
                       ('salesforce', '003AAAAAAAAAAAAAAA', 'contact', '005OWNER00000001', '2026-01-01'),
                       ('salesforce', '00QBBBBBBBBBBBBBBB', 'lead', '005OWNER00000002', '2026-06-01')""")
    finally:
        con.close()


UNSUBSCRIBE_SECRET = "unit-test-unsubscribe-secret-5c1e"


@pytest.fixture(autouse=True)
def unsubscribe_secret(monkeypatch) -> str:
    """Real sends of marketing mail need the one-click unsubscribe secret; tests of its absence delete it."""
    monkeypatch.setenv("TOUCHPLAN_UNSUBSCRIBE_SECRET", UNSUBSCRIBE_SECRET)
    return UNSUBSCRIBE_SECRET


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    folder.mkdir()
    # the shipped (demo) config with a real-looking template id: a real send refuses the demo placeholder
    text = (PROJECT_ROOT / "config" / "delivery.yaml").read_text()
    (folder / "delivery.yaml").write_text(text.replace(PLACEHOLDER_TEMPLATE_ID, TEST_TEMPLATE_ID))
    return folder


@pytest.fixture
def settings(tmp_path: Path, config_dir: Path) -> Settings:
    warehouse = tmp_path / "warehouse.duckdb"
    make_warehouse(warehouse)
    return Settings(
        warehouse=warehouse, exports=tmp_path / "exports", config_dir=config_dir, output=tmp_path / "out"
    )
