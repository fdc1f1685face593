{#- SendGrid events, each counted once. The Event Webhook retries for 24 hours and exports overlap, so an event
    arrives more than once: with the same sg_event_id (one row kept), or re-sent under a NEW sg_event_id with the
    same content (a content fingerprint: message, recipient, event, URL, ASM group, bounce type, send id) and a
    timestamp at most var('event_duplicate_window_seconds', 2) seconds from the previous copy (one row kept). A
    genuine repeat (a second open of the same message) comes minutes later and is kept. The rows, cleaned and
    keyed, come from stg_sendgrid__event_rows (incremental by export file); the de-duplication runs over all of
    them on every build, so it is the full build's. -#}
with

keyed as (
    select * from {{ ref('stg_sendgrid__event_rows') }}
    where email is not null and event_type is not null
),

same_id_once as (
    select *
    from keyed
    qualify row_number() over (
        partition by coalesce(event_id, natural_key)
        order by _ingested_at, _source_file, _source_line
    ) = 1
),

deduplicated as (
    select *
    from same_id_once
    qualify coalesce(
        date_diff(
            'second',
            lag(occurred_at) over (
                partition by fingerprint order by occurred_at, _ingested_at, _source_file, _source_line
            ),
            occurred_at
        ) > {{ var('event_duplicate_window_seconds', 2) }},
        true
    )
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
