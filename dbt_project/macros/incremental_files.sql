{#- The pre-hook of stg_sendgrid__event_rows (incremental by export file): on an incremental run, delete the staged
    rows of every file (_source_file, _file_hash) that is no longer in the raw table, e.g. a version superseded by
    a newer file of the same path (pipelines/lib/ingest/loader.py removes the old version's raw rows). -#}
{% macro sendgrid_delete_unstaged_files() -%}
{%- if is_incremental() -%}
delete from {{ this }} as staged
using (
    select distinct _source_file, _file_hash from {{ this }}
    except
    select distinct _source_file, _file_hash from {{ source('raw', 'raw_email_events') }}
    where source_system = 'sendgrid'
) as gone
where staged._source_file = gone._source_file and staged._file_hash = gone._file_hash
{%- endif -%}
{%- endmacro %}
