"""Delivery as a Dagster asset: the contact plan -> outbox files (and SendGrid when sending) -> send_ledger."""

import dagster as dg

from pipelines.defs.resources import TouchplanResource


@dg.asset(
    name="send_ledger",
    group_name="delivery",
    deps=[dg.AssetKey("contact_plan"), dg.AssetKey("dim_customers")],
    kinds={"duckdb", "sendgrid"},
    # One sender at a time across runs: limit the pool to 1 (`dagster instance concurrency set sendgrid_delivery 1`
    # or dagster.yaml concurrency.pools); the sender's lock file also refuses a second run (docs/delivery.md).
    pool="sendgrid_delivery",
    description=(
        "One row per planned send (dry_run | in_flight | accepted | failed_permanent | failed_retryable). "
        "Without --send or SENDGRID_API_KEY this is a dry run writing the exact SendGrid v3 mail/send bodies "
        "to the outbox; an accepted send is never sent again and an in_flight one is reconciled before any "
        "resend (docs/delivery.md)."
    ),
)
def send_ledger(context: dg.AssetExecutionContext, touchplan: TouchplanResource) -> dg.MaterializeResult:
    from pipelines.lib.delivery import deliver
    from pipelines.lib.delivery.lock import sender_lock

    settings = touchplan.settings()
    # The lock before the connection: a second sender gets one clear line, not DuckDB's file-lock error.
    with sender_lock(settings.warehouse), touchplan.connect() as con:
        report = deliver(con, settings, send=settings.send)
        ledger_rows = con.execute("SELECT count(*) FROM send_ledger").fetchone()[0]
    if report.mode == "dry_run" and settings.send:
        context.log.warning("--send was given but SENDGRID_API_KEY is not set: delivery ran as a dry run")
    if report.plan_run_held_back:
        context.log.warning(f"latest plan run not sent: {report.plan_run_held_back}")
    context.log.info(report.summary())
    return dg.MaterializeResult(metadata={"dagster/row_count": ledger_rows, **report.as_metadata()})


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[send_ledger])
