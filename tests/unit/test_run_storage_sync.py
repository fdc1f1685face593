"""`touchplan run` stores Dagster's run events without an fsync per event (pipelines/commands/run_job.py)."""

from __future__ import annotations

import dagster as dg

from pipelines.commands.run_job import _no_fsync_for_run_storage


def test_the_run_storage_sqlite_connections_do_not_sync_each_commit(tmp_path):
    _no_fsync_for_run_storage()
    _no_fsync_for_run_storage()  # idempotent: one listener however many runs a process makes
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        storage = instance.event_log_storage
        with storage.run_connection("some-run") as conn:  # the per-run shard each event is written to
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 0  # OFF (SQLite's default: 2, FULL)
        with storage.index_connection() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 0
