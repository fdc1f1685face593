"""Config files users edit (config/*.yaml), parsed into pydantic models with errors that name file and key."""

from pipelines.lib.config.loader import ConfigError, load_yaml_model, read_yaml

__all__ = ["ConfigError", "load_yaml_model", "read_yaml"]
