"""`touchplan` subcommands: one module each, exposing `register(subparsers)`."""

# Order is the order of `touchplan --help`.
COMMAND_MODULES = [
    "sample_data",
    "run",
    "check_config",
    "ingest",
    "plan",
    "explain",
    "explain_match",
    "backtest",
    "erase",
    "deliveries",
    "serve",
]
