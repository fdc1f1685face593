{#- Every send of a configured campaign, one row per customer, campaign and send time: the ledger's accepted sends
    (status `sent`, being renamed `accepted`) and the SendGrid events that carry the campaign in custom_args
    (`campaign_id`), so sends made before the ledger existed, or by another sender with the same custom args,
    count too. A ledger send whose events came back appears in both; exposures take the first per period. -#}
with

campaigns as (
    {{ measurement_campaigns_sql() }}
),

as_of as (
    select as_of_at from {{ ref('int_insight__as_of') }}
),

-- the ledger keeps the customer id of send time; a merge since then moves the send to the surviving id
ledger as (
    select
        coalesce(lineage.current_customer_id, l.customer_id) as customer_id,
        l.campaign_id,
        l.channel,
        cast(coalesce(l.sent_at, l.scheduled_at, l.created_at) as timestamp) as sent_at,
        'ledger' as evidence
    from {{ source('planning', 'send_ledger') }} as l
    left join {{ ref('customer_id_lineage') }} as lineage on l.customer_id = lineage.customer_id
    where l.status in ('sent', 'accepted')
),

email_events as (
    select
        t.customer_id,
        t.campaign_id,
        'email' as channel,
        t.occurred_at as sent_at,
        'sendgrid_event' as evidence
    from {{ ref('fct_touchpoints') }} as t
    where
        t.channel = 'email'
        and t.campaign_id is not null
        and t.touchpoint_type in ('processed', 'delivered', 'deferred', 'bounce')
),

sends as (
    select * from ledger
    union all
    select * from email_events
)

select
    s.customer_id,
    s.campaign_id,
    c.objective,
    s.channel,
    s.sent_at,
    s.evidence
from sends as s
inner join campaigns as c on s.campaign_id = c.campaign_id
cross join as_of
where s.sent_at is not null and s.sent_at <= as_of.as_of_at
