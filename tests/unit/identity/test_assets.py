"""The identity multi-asset materialises its five tables on a temporary warehouse, with counts-only metadata."""

import dagster as dg
import duckdb
import yaml

from pipelines.defs.identity.assets import IDENTITY_TABLES, identity_resolution
from pipelines.defs.resources import TouchplanResource

from .conftest import person, write_records


def test_identity_asset_materialises_tables_with_counts_only(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "identity.yaml").write_text(yaml.safe_dump({"splink": {"enabled": False}}))
    con = duckdb.connect(str(warehouse))
    write_records(
        con,
        [
            person("salesforce:1", "ann", "lee", email="ann@x.com"),
            person("hubspot:1", "ann", "lee", email="ann@x.com"),
            person("zoho:1", "bo", "park", email="info@x.com"),
            person("zoho:2", "cy", "diaz", email="info@x.com"),
        ],
    )
    con.close()

    result = dg.materialize(
        [identity_resolution],
        resources={"touchplan": TouchplanResource(warehouse=str(warehouse), config_dir=str(config_dir))},
    )
    assert result.success
    materialized = {
        m.asset_key.to_user_string(): m.metadata
        for m in result.get_asset_materialization_events()
        for m in [m.event_specific_data.materialization]
    }
    assert set(materialized) == set(IDENTITY_TABLES)
    meta = materialized["identity_clusters"]
    assert meta["records"].value == 4 and meta["clusters"].value == 3
    assert meta["edges_email"].value == 1 and meta["guard_role_mailbox"].value == 1
    assert meta["row_count"].value == 4
    text = repr({k: v.value for m in materialized.values() for k, v in m.items()})
    assert "ann@x.com" not in text and "salesforce:1" not in text and "lee" not in text
    with duckdb.connect(str(warehouse), read_only=True) as check:
        assert check.execute("SELECT count(*) FROM customer_key_map").fetchone()[0] == 4
