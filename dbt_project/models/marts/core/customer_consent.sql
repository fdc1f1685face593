{#- Effective consent per customer, channel and subscription group, with the assertion that decided it.

    Every source statement about consent is an assertion with a severity: subscribed (1) < unsubscribed (2) <
    suppressed (3: hard bounce, spam report, invalid address, Mailchimp cleaned). For `marketing` the most
    restrictive assertion anywhere wins (an unsubscribe in one source beats a subscribe in another), the latest of
    equal severity reports it. For an ASM group a group_resubscribe re-subscribes that group only when it is later
    than every restrictive assertion of that group. Customers without any assertion get `unknown` for email and
    phone marketing. -#}
with

crosswalk as (
    select * from {{ ref('customer_crosswalk') }}
),

customers as (
    select distinct customer_id from crosswalk
),

email_events as (
    select * from {{ ref('stg_sendgrid__events') }}
),

suppressions as (
    select * from {{ ref('stg_sendgrid__suppressions') }}
    union all by name
    select * from {{ ref('stg_mailchimp__suppressions') }}
),

mailchimp_members as (
    select * from {{ ref('stg_mailchimp__members') }}
),

crm as (
    select * from {{ ref('stg_salesforce__contacts') }}
    union all by name
    select * from {{ ref('stg_salesforce__leads') }}
    union all by name
    select * from {{ ref('stg_hubspot__contacts') }}
    union all by name
    select * from {{ ref('stg_crm__contacts') }}
),

event_assertions as (
    select
        recipient_record_key as record_key,
        'email' as channel,
        case
            when event_type in ('group_unsubscribe', 'group_resubscribe') then cast(asm_group_id as varchar)
            else 'marketing'
        end as subscription_group,
        case event_type
            when 'group_resubscribe' then 'subscribed'
            when 'unsubscribe' then 'unsubscribed'
            when 'group_unsubscribe' then 'unsubscribed'
            else 'suppressed'
        end as consent_state,
        case event_type
            when 'spamreport' then 'spam report'
            when 'bounce' then 'hard bounce' || coalesce(': ' || reason, '')
            else event_type
        end as reason,
        email_event_id as evidence_id,
        occurred_at as asserted_at
    from email_events
    where
        event_type in ('unsubscribe', 'group_unsubscribe', 'group_resubscribe', 'spamreport')
        or (event_type = 'bounce' and coalesce(bounce_type, 'bounce') = 'bounce')
),

suppression_assertions as (
    select
        case
            when suppressions.source_system = 'sendgrid' then 'sendgrid:' || suppressions.email
            else members.record_key
        end as record_key,
        'email' as channel,
        case
            when suppressions.suppression_list = 'group_unsubscribes' then cast(suppressions.asm_group_id as varchar)
            else 'marketing'
        end as subscription_group,
        case
            when suppressions.suppression_list in ('global_unsubscribes', 'group_unsubscribes') then 'unsubscribed'
            else 'suppressed'
        end as consent_state,
        suppressions.suppression_list || coalesce(': ' || suppressions.reason, '') as reason,
        suppressions.suppression_id as evidence_id,
        suppressions.created_at as asserted_at
    from suppressions
    left join
        mailchimp_members
            as members
        on suppressions.source_system = 'mailchimp' and suppressions.email = members.email
    where
        suppressions.suppression_list in (
            'bounces', 'spam_reports', 'invalid_emails', 'global_unsubscribes',
            'group_unsubscribes'
        )
        and (suppressions.suppression_list <> 'group_unsubscribes' or suppressions.asm_group_id is not null)
),

mailchimp_assertions as (
    select
        record_key,
        'email' as channel,
        'marketing' as subscription_group,
        case list_status
            when 'subscribed' then 'subscribed' when 'unsubscribed' then 'unsubscribed'
            else 'suppressed'
        end as consent_state,
        case list_status
            when 'subscribed' then 'mailchimp subscribed'
            when 'unsubscribed' then 'mailchimp unsubscribed' || coalesce(': ' || unsub_reason, '')
            else 'mailchimp cleaned' || coalesce(': ' || clean_reason, '')
        end as reason,
        record_key as evidence_id,
        case list_status
            when 'subscribed' then coalesce(confirm_at, optin_at, last_changed_at)
            when 'unsubscribed' then coalesce(unsubscribed_at, last_changed_at)
            else coalesce(cleaned_at, last_changed_at)
        end as asserted_at
    from mailchimp_members
    where list_status in ('subscribed', 'unsubscribed', 'cleaned')
),

-- CRM flags only restrict: has_opted_out_of_email = false or do_not_call = false is not a consent to contact.
crm_assertions as (
    select
        record_key,
        'email' as channel,
        'marketing' as subscription_group,
        'unsubscribed' as consent_state,
        source_system || ' opted out of email' as reason,
        record_key as evidence_id,
        coalesce(updated_at, created_at) as asserted_at
    from crm
    where has_opted_out_of_email
    union all
    select
        record_key,
        'phone' as channel,
        'marketing' as subscription_group,
        'unsubscribed' as consent_state,
        source_system || ' do not call' as reason,
        record_key as evidence_id,
        coalesce(updated_at, created_at) as asserted_at
    from crm
    where do_not_call
),

assertions as (
    select * from event_assertions
    union all by name
    select * from suppression_assertions
    union all by name
    select * from mailchimp_assertions
    union all by name
    select * from crm_assertions
),

customer_assertions as (
    select
        crosswalk.customer_id,
        assertions.channel,
        assertions.subscription_group,
        assertions.consent_state,
        case assertions.consent_state when 'suppressed' then 3 when 'unsubscribed' then 2 else 1 end as severity,
        assertions.reason,
        crosswalk.source_system as asserted_by_source_system,
        crosswalk.source_record_id as asserted_by_record_id,
        assertions.evidence_id,
        assertions.asserted_at
    from assertions
    inner join crosswalk on assertions.record_key = crosswalk.record_key
    where assertions.subscription_group is not null
),

ranked as (
    select
        *,
        max(case when severity > 1 then coalesce(asserted_at, cast('infinity' as timestamp)) end)
            over (partition by customer_id, channel, subscription_group) as last_restriction_at
    from customer_assertions
),

effective as (
    select *
    from ranked
    qualify row_number() over (
        partition by customer_id, channel, subscription_group
        order by
            {# a group resubscribe later than the last restriction of that group wins for that group #}
            case
                when
                    subscription_group <> 'marketing' and severity = 1
                    and (last_restriction_at is null or asserted_at > last_restriction_at) then 0
                else 1
            end,
            severity desc,
            asserted_at desc nulls first,
            asserted_by_source_system asc,
            asserted_by_record_id asc,
            evidence_id asc
    ) = 1
),

grid as (
    select
        customers.customer_id,
        defaults.channel,
        'marketing' as subscription_group
    from customers
    cross join (values ('email'), ('phone')) as defaults (channel)
    union
    select
        customer_id,
        channel,
        subscription_group
    from effective
),

final as (
    select
        grid.customer_id,
        grid.channel,
        grid.subscription_group,
        coalesce(effective.consent_state, 'unknown') as consent_state,
        effective.reason,
        effective.asserted_by_source_system,
        effective.asserted_by_record_id,
        effective.evidence_id,
        effective.asserted_at
    from grid
    left join effective
        on
            grid.customer_id = effective.customer_id
            and grid.channel = effective.channel
            and grid.subscription_group = effective.subscription_group
)

select * from final
