"""Any other CSV: a rule in config/sources.yaml names the raw table and maps its columns to the file's headers.

    files:
      - glob: "events/booth_scans*.csv"
        format: custom_csv
        source: tradeshow
        table: raw_crm_contacts
        columns: {source_record_id: "Badge ID", email: "E-mail", first_name: "First", last_name: "Last"}
        required: ["Badge ID", "E-mail"]
        constants: {record_type: contact}
        time_zone: Europe/Berlin

Types come from the raw table (DATE, TIMESTAMP, BOOLEAN, INTEGER, DOUBLE, lists, JSON); every other header is
kept in `extra`.
"""

from __future__ import annotations

from pipelines.lib.ingest.errors import FileRejected
from pipelines.lib.ingest.formats import FileContext, Sniff, TabularFormat, register
from pipelines.lib.ingest.mapping import Col, Segment
from pipelines.lib.ingest.schema import table_columns

KINDS = {
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "BOOLEAN": "bool",
    "INTEGER": "int",
    "BIGINT": "int",
    "DOUBLE": "double",
    "VARCHAR[]": "list",
    "JSON": "json",
}


class CustomCsv(TabularFormat):
    name = "custom_csv"
    kind = "crm"
    source_system = "custom"

    def detect(self, sniff: Sniff) -> bool:
        return False  # only by a rule in config/sources.yaml

    def stage(self, ctx: FileContext, sniff: Sniff) -> list[Segment]:
        rule = ctx.rule
        if rule is None or rule.table is None:
            raise FileRejected(f"{ctx.relative}: custom_csv needs a file rule with `table` and `columns`")
        line, fields = self.header_row(sniff)
        delimiter = rule.delimiter or sniff.delimiter
        from pipelines.lib.ingest.tabular import check_headers, clean_header, head_rows, stage_csv

        if rule.delimiter and rule.delimiter != sniff.delimiter:
            line, fields = head_rows(sniff.head_text, rule.delimiter, 1)[0]
        headers = [clean_header(f) for f in fields]
        check_headers(ctx.relative, headers, rule.required, line)
        staged = stage_csv(ctx.con, ctx.utf8_path(), ctx.new_stage(), headers, line, delimiter)
        types = table_columns(rule.table)
        source = rule.source or "custom"
        cols: list[Col] = [Col("source_system", const=source)] if "source_system" in types else []
        for target, header in rule.columns.items():
            if target not in types:
                raise FileRejected(
                    f"{ctx.relative}: rule {rule.glob!r}: {target!r} is not a column of {rule.table}"
                )
            kind = KINDS.get(types[target], "text")
            if kind == "timestamp":
                cols.append(Col(target, header, kind, zone=ctx.zone(source), formats=rule.timestamp_formats))
            else:
                cols.append(Col(target, header, kind))
        cols += [Col(k, const=v) for k, v in rule.constants.items() if k in types]
        from pipelines.lib.ingest.formats import make_segment

        return [
            make_segment(
                ctx,
                self.name,
                rule.table,
                cols,
                headers,
                staged.stage,
                staged.headers,
                staged.rejects,
                staged.raw_sql,
                staged.nondata,
            )
        ]


register(CustomCsv())
