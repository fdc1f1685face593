{#- One-click unsubscribes recorded by `touchplan serve`, one row per send (its first request), with the customer
    and the subscription group of that send: send_ledger (by send_id) gives the customer, campaign, channel and
    plan run; the contact_plan row of that run gives the group the email was sent under (the sender put that
    group's ASM id in the email). A send missing from send_ledger (a ledger from another warehouse) keeps NULLs and
    is counted by a warning test. send_ledger and contact_plan are read when they exist (macro table_if_exists):
    the steps that write them run after the marts. -#}
{%- set raw_requests = load_relation(source('raw', 'raw_unsubscribe_requests')) -%}
with

requests as (
    {%- if raw_requests is not none %}
    select
        send_id,
        requested_at,
        method,
        _ingested_at,
        _source_file,
        _source_line
    from {{ raw_requests }}
    {%- else %}
    {{ optional_columns({'send_id': 'varchar', 'requested_at': 'timestamp', 'method': 'varchar',
        '_ingested_at': 'timestamp', '_source_file': 'varchar', '_source_line': 'bigint'}) }}
    {%- endif %}
),

ledger as (
    select
        send_id,
        customer_id,
        campaign_id,
        channel,
        plan_run_id,
        scheduled_at
    from {{ table_if_exists('send_ledger',
        "select cast(null as varchar) as send_id, cast(null as varchar) as customer_id,
            cast(null as varchar) as campaign_id, cast(null as varchar) as channel,
            cast(null as varchar) as plan_run_id, cast(null as timestamp) as scheduled_at where false") }}
),

plan as (
    select
        plan_run_id,
        customer_id,
        campaign_id,
        channel,
        scheduled_at,
        subscription_group
    from {{ table_if_exists('contact_plan',
        "select cast(null as varchar) as plan_run_id, cast(null as varchar) as customer_id,
            cast(null as varchar) as campaign_id, cast(null as varchar) as channel,
            cast(null as timestamp) as scheduled_at, cast(null as varchar) as subscription_group where false") }}
),

first_request as (
    select
        lower(trim(send_id)) as send_id,
        try_cast(requested_at as timestamp) as requested_at,
        nullif(trim(method), '') as method,
        _source_file,
        _source_line
    from requests
    where nullif(trim(send_id), '') is not null and requested_at is not null
    qualify row_number() over (
        partition by lower(trim(send_id)) order by requested_at, _ingested_at, _source_file, _source_line
    ) = 1
),

send_group as (
    select
        ledger.send_id,
        ledger.customer_id,
        ledger.campaign_id,
        ledger.channel,
        {{ subscription_group_of('plan.subscription_group') }} as subscription_group
    from ledger
    left join plan
        on
            ledger.plan_run_id = plan.plan_run_id
            and ledger.customer_id = plan.customer_id
            and ledger.campaign_id = plan.campaign_id
            and ledger.channel = plan.channel
            and cast(ledger.scheduled_at as date) = cast(plan.scheduled_at as date)
    where ledger.send_id in (select first_request.send_id from first_request)
    qualify row_number() over (partition by ledger.send_id order by plan.scheduled_at nulls last) = 1
),

final as (
    select
        first_request.send_id,
        send_group.customer_id,
        send_group.campaign_id,
        send_group.channel,
        case
            when send_group.send_id is not null
                then coalesce(send_group.subscription_group, '{{ var("default_subscription_group", "marketing") }}')
        end as subscription_group,
        first_request.requested_at,
        first_request.method,
        send_group.send_id is not null as is_known_send,
        first_request._source_file,
        first_request._source_line
    from first_request
    left join send_group on first_request.send_id = send_group.send_id
)

select * from final
