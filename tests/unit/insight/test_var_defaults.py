"""The models must build with no --vars: each insight var's default in the dbt models equals what the shipped
config/insight.yaml produces, so a run without vars and a run from the config give the same tables."""

from __future__ import annotations

import json
import re

from pipelines.lib.insight.config import insight_vars, load_insight_settings
from pipelines.lib.settings import DBT_PROJECT_DIR, PROJECT_ROOT

MODELS = DBT_PROJECT_DIR / "models" / "marts" / "insight"
VAR_DEFAULT = re.compile(r"var\('(insight_\w+)', (.*?)\) -%\}")


def test_every_insight_var_default_equals_the_shipped_config() -> None:
    shipped = insight_vars(load_insight_settings(PROJECT_ROOT / "config"))
    defaults: dict[str, list] = {}
    for path in sorted(MODELS.glob("*.sql")):
        for name, literal in VAR_DEFAULT.findall(path.read_text(encoding="utf-8")):
            defaults.setdefault(name, []).append((path.name, json.loads(literal)))
    assert set(defaults) == set(shipped)
    for name, found in defaults.items():
        for model, value in found:
            assert value == shipped[name], f"{model}: default of {name} differs from config/insight.yaml"
