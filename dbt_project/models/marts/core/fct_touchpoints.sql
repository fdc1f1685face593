{#- Every interaction of every source on one timeline, keyed to customer_id. Email events are counted once
    (stg_sendgrid__events removes repeated deliveries of the same event); webinar attendance is one touchpoint per
    attendee and webinar with the minutes of all their sessions; only email deliveries count towards frequency
    caps (is_marketing_contact). -#}
with

crosswalk as (
    select
        record_key,
        customer_id
    from {{ ref('customer_crosswalk') }}
),

email_events as (
    select * from {{ ref('stg_sendgrid__events') }}
),

attendances as (
    select * from {{ ref('stg_webinar__attendances') }}
),

registrations as (
    select * from {{ ref('stg_webinar__registrations') }}
),

crm_records as (
    select
        record_key,
        source_system,
        created_at
    from {{ ref('stg_crm__contacts') }}
),

deals as (
    select * from {{ ref('stg_crm__deals') }}
),

email_touchpoints as (
    select
        email_event_id as touchpoint_id,
        recipient_record_key as record_key,
        source_system,
        'email' as channel,
        event_type as touchpoint_type,
        event_type = 'delivered' as is_marketing_contact,
        campaign_id,
        message_id,
        null::varchar as webinar_id,
        null::varchar as webinar_topic,
        null::double as value,
        occurred_at
    from email_events
),

attended_touchpoints as (
    select
        md5(concat_ws('|', 'attended', source_system, webinar_id, attendee_record_key)) as touchpoint_id,
        attendee_record_key as record_key,
        source_system,
        'webinar' as channel,
        'attended' as touchpoint_type,
        false as is_marketing_contact,
        null::varchar as campaign_id,
        null::varchar as message_id,
        webinar_id,
        max(webinar_topic) as webinar_topic,
        sum(duration_minutes) as value,
        min(coalesce(joined_at, webinar_start_at)) as occurred_at
    from attendances
    where
        attendee_record_key is not null
        and role <> 'host'
        -- Zoom lists registrants who never joined ("Attended: No", join time "--"): not an attendance
        and (joined_at is not null or coalesce(duration_minutes, 0) > 0)
    group by source_system, webinar_id, attendee_record_key
),

registered_touchpoints as (
    select
        md5('registered|' || registration_id) as touchpoint_id,
        attendee_record_key as record_key,
        source_system,
        'webinar' as channel,
        'registered' as touchpoint_type,
        false as is_marketing_contact,
        null::varchar as campaign_id,
        null::varchar as message_id,
        webinar_id,
        webinar_topic,
        null::double as value,
        registered_at as occurred_at
    from registrations
),

crm_touchpoints as (
    select
        md5('crm_created|' || record_key) as touchpoint_id,
        record_key,
        source_system,
        'crm' as channel,
        'crm_created' as touchpoint_type,
        false as is_marketing_contact,
        null::varchar as campaign_id,
        null::varchar as message_id,
        null::varchar as webinar_id,
        null::varchar as webinar_topic,
        null::double as value,
        created_at as occurred_at
    from crm_records
    where created_at is not null
),

deal_touchpoints as (
    select
        md5('deal_created|' || deal_key) as touchpoint_id,
        contact_record_key as record_key,
        source_system,
        'sales' as channel,
        'deal_created' as touchpoint_type,
        false as is_marketing_contact,
        null::varchar as campaign_id,
        null::varchar as message_id,
        null::varchar as webinar_id,
        null::varchar as webinar_topic,
        amount as value,
        created_at as occurred_at
    from deals
    where created_at is not null
    union all
    select
        md5('deal_closed|' || deal_key) as touchpoint_id,
        contact_record_key as record_key,
        source_system,
        'sales' as channel,
        case when is_won then 'deal_won' else 'deal_lost' end as touchpoint_type,
        false as is_marketing_contact,
        null::varchar as campaign_id,
        null::varchar as message_id,
        null::varchar as webinar_id,
        null::varchar as webinar_topic,
        amount as value,
        coalesce(close_date::timestamp, created_at) as occurred_at
    from deals
    where is_closed
),

touchpoints as (
    select * from email_touchpoints
    union all by name
    select * from attended_touchpoints
    union all by name
    select * from registered_touchpoints
    union all by name
    select * from crm_touchpoints
    union all by name
    select * from deal_touchpoints
),

final as (
    select
        touchpoints.touchpoint_id,
        crosswalk.customer_id,
        touchpoints.record_key,
        touchpoints.source_system,
        touchpoints.channel,
        touchpoints.touchpoint_type,
        touchpoints.is_marketing_contact,
        touchpoints.campaign_id,
        touchpoints.message_id,
        touchpoints.webinar_id,
        touchpoints.webinar_topic,
        touchpoints.value,
        touchpoints.occurred_at
    from touchpoints
    inner join crosswalk on touchpoints.record_key = crosswalk.record_key
)

select * from final
