import pytest
from pydantic import BaseModel

from pipelines.lib.config import ConfigError, load_yaml_model


class Cap(BaseModel):
    channel: str
    max_contacts: int


class Rules(BaseModel):
    caps: list[Cap]


def test_valid_file_parses(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("caps:\n  - channel: email\n    max_contacts: 3\n")
    assert load_yaml_model(path, Rules).caps[0].max_contacts == 3


def test_error_names_file_and_key_path(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("caps:\n  - channel: email\n    max_contacts: three\n")
    with pytest.raises(ConfigError) as exc:
        load_yaml_model(path, Rules)
    message = str(exc.value)
    assert str(path) in message
    assert "caps[0].max_contacts" in message


def test_yaml_syntax_error_names_line(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("caps:\n  - channel: [email\n")
    with pytest.raises(ConfigError, match=r"rules.yaml: line \d+"):
        load_yaml_model(path, Rules)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_yaml_model(tmp_path / "absent.yaml", Rules)
