"""config/identity.yaml parses into IdentityConfig; errors name the file and the key."""

from pathlib import Path

import pytest

from pipelines.lib.config import ConfigError
from pipelines.lib.identity import IdentityConfig, identity_dbt_vars, load_identity_config

REPO = Path(__file__).resolve().parents[3]


def test_shipped_config_is_the_documented_defaults():
    assert load_identity_config(REPO / "config") == IdentityConfig()


def test_unknown_blocking_column_names_file_and_key(tmp_path):
    (tmp_path / "identity.yaml").write_text("splink:\n  blocking_rules: [[last_name_norm, shoe_size]]\n")
    with pytest.raises(ConfigError, match=r"identity\.yaml: splink\.blocking_rules: .*shoe_size"):
        load_identity_config(tmp_path)


def test_misspelled_key_is_rejected(tmp_path):
    (tmp_path / "identity.yaml").write_text("guards:\n  max_cluster_sise: 10\n")
    with pytest.raises(ConfigError, match=r"guards\.max_cluster_sise"):
        load_identity_config(tmp_path)


def test_role_mailboxes_are_normalised_and_dbt_var_passed(tmp_path):
    (tmp_path / "identity.yaml").write_text(
        "guards:\n  role_mailboxes: [' Info@', sales]\nemail_provider_rules: true\n"
    )
    cfg = load_identity_config(tmp_path)
    assert cfg.guards.role_mailboxes == ["info", "sales"]
    assert identity_dbt_vars(cfg) == {"email_provider_rules": True}
