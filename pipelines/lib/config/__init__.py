"""Config files users edit (config/*.yaml) and what the stages get from them (dbt vars: dbt_vars.py; the check of
every file: validate.py). The YAML loader all config models use is pipelines.lib.config_loader, below both this
package and the stages' config modules, so that no stage imports this package (no import cycle)."""

from pipelines.lib.config_loader import ConfigError, load_yaml_model, read_yaml

__all__ = ["ConfigError", "load_yaml_model", "read_yaml"]
