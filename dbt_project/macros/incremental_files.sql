{#- The version of what decides the content of a stg_sendgrid__event_rows row: the model's own SQL and the email
    rule as this run renders it (vars email_pattern, email_provider_rules). Stored in each row's _staging_version;
    a row staged under another version is staged again (sendgrid_delete_unstaged_files), so a changed email rule
    or an upgraded model reaches the rows already staged without a --full-refresh. -#}
{% macro sendgrid_event_rows_version() -%}
{{ return(local_md5(model.raw_code ~ '|' ~ normalise_email('email'))) }}
{%- endmacro %}

{#- The pre-hooks of stg_sendgrid__event_rows (incremental by export file), on an incremental run:
    1. sendgrid_add_version_column: a table staged before _staging_version existed gets the column (NULL, so
       every row is staged again: 2 below);
    2. sendgrid_delete_unstaged_files: delete the staged rows of an older version, and of every file
       (_source_file, _file_hash) no longer in the raw table, e.g. a version superseded by a newer file of the
       same path (pipelines/lib/ingest/loader.py removes the old version's raw rows). -#}
{% macro sendgrid_add_version_column() -%}
{%- if is_incremental() -%}
{%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
{%- if '_staging_version' not in columns -%}
alter table {{ this }} add column _staging_version varchar
{%- endif -%}
{%- endif -%}
{%- endmacro %}

{% macro sendgrid_delete_unstaged_files() -%}
{%- if is_incremental() -%}
delete from {{ this }} as staged
where
    staged._staging_version is distinct from '{{ sendgrid_event_rows_version() }}'
    or exists (
        select 1 from (
            select distinct _source_file, _file_hash from {{ this }}
            except
            select distinct _source_file, _file_hash from {{ source('raw', 'raw_email_events') }}
            where source_system = 'sendgrid'
        ) as gone
        where staged._source_file = gone._source_file and staged._file_hash = gone._file_hash
    )
{%- endif -%}
{%- endmacro %}
