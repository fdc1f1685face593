{#- SendGrid events, each counted once. The Event Webhook retries for 24 hours and exports overlap, so an event
    arrives more than once: with the same sg_event_id (one row kept), or re-sent under a NEW sg_event_id with the
    same content (a content fingerprint: message, recipient, event, URL, ASM group, bounce type, send id) and a
    timestamp at most var('event_duplicate_window_seconds', 2) seconds from the previous copy (one row kept). A
    genuine repeat (a second open of the same message) comes minutes later and is kept. The rows, cleaned and
    keyed, come from stg_sendgrid__event_rows (incremental by export file).
    Incremental by de-duplication group (macros/incremental_events.sql): a daily build re-derives only the keys and
    fingerprints that gained or lost rows, with all their rows in view, so the table equals a full build's; a
    changed rule (this SQL, the window var, ...) or --full-refresh rebuilds it in full. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ sendgrid_events_prepare() }}",
    post_hook="{{ sendgrid_events_record() }}"
) }}

with

{% if sendgrid_events_mode() == 'increment' %}
survivors as (
    -- the survivors of the keys to re-derive, written by the pre-hook: every survivor of their fingerprints
    select * from {{ sendgrid_events_table('work') }}
),
{% else %}
survivors as (
    select * from ({{ sendgrid_event_rows_keyed() }}) as keyed
    {{ sendgrid_event_survivor_rule() }}
),
{% endif %}

deduplicated as (
    select * from survivors
    {{ sendgrid_event_window_rule() }}
),

final as (
    select
        'sendgrid:' || coalesce(event_id, natural_key) as email_event_id,
        'sendgrid' as source_system,
        event_id,
        message_id,
        'sendgrid:' || email as recipient_record_key,
        email,
        {{ email_domain('email') }} as email_domain,
        event_type,
        bounce_type,
        bounce_classification,
        reason,
        status,
        url,
        categories,
        asm_group_id,
        case when asm_group_id is not null then {{ subscription_group_name('asm_group_id') }} end
            as subscription_group,
        campaign_id,
        touchplan_send_id,
        occurred_at,
        _source_file,
        _source_line
    from deduplicated
)

select * from final
