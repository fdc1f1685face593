{#- Every SendGrid event row of the raw table, cleaned and keyed, one row per raw row (nothing removed yet:
    stg_sendgrid__events de-duplicates). Incremental by export file: a run stages only the rows of files
    (_source_file, _file_hash) not staged yet, and first deletes the rows of files no longer in the raw table (a
    file superseded by a newer version of the same path) and the rows staged by another version of this SQL or of
    the email rule (_staging_version: macros/incremental_files.sql). Each row depends on its raw row alone, so the
    increment gives the same rows as a full build; `touchplan run --full-refresh` rebuilds it from the raw table. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=["{{ sendgrid_add_version_column() }}", "{{ sendgrid_delete_unstaged_files() }}"]
) }}

with

{% if is_incremental() %}
staged_files as (
    select distinct _source_file, _file_hash from {{ this }}
),
{% endif %}

source as (
    {% if is_incremental() %}
        select * from {{ source('raw', 'raw_email_events') }} as raw
        where
            source_system = 'sendgrid'
            and not exists (
                select 1 from staged_files as staged
                where staged._source_file = raw._source_file and staged._file_hash = raw._file_hash
            )
    {% else %}
        select * from {{ source('raw', 'raw_email_events') }}
        where source_system = 'sendgrid'
    {% endif %}
),

renamed as (
    select
        nullif(trim(event_id), '') as event_id,
        nullif(trim(message_id), '') as message_id,
        {{ normalise_email('email') }} as email,
        lower(trim(event)) as event_type,
        nullif(lower(trim(bounce_type)), '') as bounce_type,
        nullif(trim(bounce_classification), '') as bounce_classification,
        nullif(trim(reason), '') as reason,
        nullif(trim(status), '') as status,
        nullif(trim(url), '') as url,
        categories,
        try_cast(asm_group_id as integer) as asm_group_id,
        nullif(trim(cast(campaign_id as varchar)), '') as campaign_id,
        nullif(trim(cast(touchplan_send_id as varchar)), '') as touchplan_send_id,
        try_cast(occurred_at as timestamp) as occurred_at,
        _ingested_at,
        _source_file,
        _file_hash,
        _source_line
    from source
),

keyed as (
    select
        *,
        md5(concat_ws(
            '|', coalesce(message_id, ''), coalesce(email, ''), event_type,
            coalesce(cast(occurred_at as varchar), ''), coalesce(url, ''),
            coalesce(cast(asm_group_id as varchar), '')
        )) as natural_key,
        md5(concat_ws(
            '|', coalesce(message_id, ''), coalesce(email, ''), event_type, coalesce(url, ''),
            coalesce(cast(asm_group_id as varchar), ''), coalesce(bounce_type, ''),
            coalesce(touchplan_send_id, ''), coalesce(campaign_id, '')
        )) as fingerprint,
        '{{ sendgrid_event_rows_version() }}' as _staging_version
    from renamed
)

select * from keyed
