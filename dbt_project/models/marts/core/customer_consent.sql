{#- Effective consent per customer, channel and subscription group, with the assertion that decided it.

    Subscription groups are one vocabulary (macros/subscription_groups.sql): `marketing` and the names of
    config/delivery.yaml `asm_groups` (var `subscription_groups`). An assertion is either GLOBAL (an unsubscribe
    from everything, a spam report, a hard bounce, Mailchimp, a CRM opt-out) or about ONE GROUP (a SendGrid
    group_unsubscribe / group_resubscribe or a group_unsubscribes list entry, stored under the group's NAME mapped
    from its ASM id; a one-click unsubscribe from `touchplan serve`, under the group of the send). Every customer
    gets a row for every channel and every group of the vocabulary (plus any group an assertion names that config
    does not know, kept under its ASM id); a group's state is decided by the global assertions and that group's own:
    a group unsubscribe withdraws that group only, a global unsubscribe withdraws all of them.

    Severity: subscribed (1) < unsubscribed (2) < suppressed (3: hard bounce, spam report, invalid address,
    Mailchimp cleaned). The most restrictive assertion wins (an unsubscribe in one source beats a subscribe in
    another), the latest of equal severity reports it. A group_resubscribe lifts that group's own restrictions when
    it is later than every one of them; it never lifts a global one. Customers without any assertion get `unknown`.
-#}
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

-- the ledger's customer is the one at send time: a merge since then moves the request to the surviving id
unsubscribe_requests as (
    select
        requests.send_id,
        coalesce(lineage.current_customer_id, requests.customer_id) as customer_id,
        requests.subscription_group,
        requests.requested_at
    from {{ ref('stg_touchplan__unsubscribe_requests') }} as requests
    left join {{ ref('customer_id_lineage') }} as lineage on requests.customer_id = lineage.customer_id
    where requests.is_known_send
),

suppressions as (
    select * from {{ ref('stg_email__suppressions') }}
),

mailchimp_members as (
    select * from {{ ref('stg_mailchimp__members') }}
),

crm as (
    select * from {{ ref('stg_crm__contacts') }}
),

event_assertions as (
    select
        recipient_record_key as record_key,
        'email' as channel,
        case
            when event_type in ('group_unsubscribe', 'group_resubscribe') then subscription_group
        end as subscription_group,
        case when event_type in ('group_unsubscribe', 'group_resubscribe') then 'group' else 'all' end as scope,
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
            when suppressions.suppression_list = 'group_unsubscribes'
                then {{ subscription_group_name('suppressions.asm_group_id') }}
        end as subscription_group,
        case when suppressions.suppression_list = 'group_unsubscribes' then 'group' else 'all' end as scope,
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
        cast(null as varchar) as subscription_group,
        'all' as scope,
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
        cast(null as varchar) as subscription_group,
        'all' as scope,
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
        cast(null as varchar) as subscription_group,
        'all' as scope,
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
        assertions.scope,
        assertions.consent_state,
        case assertions.consent_state when 'suppressed' then 3 when 'unsubscribed' then 2 else 1 end as severity,
        assertions.reason,
        crosswalk.source_system as asserted_by_source_system,
        crosswalk.source_record_id as asserted_by_record_id,
        assertions.evidence_id,
        assertions.asserted_at
    from assertions
    inner join crosswalk on assertions.record_key = crosswalk.record_key
    where assertions.scope = 'all' or assertions.subscription_group is not null
    union all
    -- one-click unsubscribes (RFC 8058) through `touchplan serve`: that send's group, for that send's customer
    select
        requests.customer_id,
        'email' as channel,
        requests.subscription_group,
        'group' as scope,
        'unsubscribed' as consent_state,
        2 as severity,
        'one-click unsubscribe' as reason,
        'touchplan' as asserted_by_source_system,
        requests.send_id as asserted_by_record_id,
        'unsubscribe:' || requests.send_id as evidence_id,
        requests.requested_at as asserted_at
    from unsubscribe_requests as requests
    where requests.customer_id in (select customers.customer_id from customers)
),

vocabulary as (
    {{ subscription_group_vocabulary() }}
),

grid as (
    select
        customers.customer_id,
        channels.channel,
        vocabulary.subscription_group
    from customers
    cross join (values ('email'), ('phone')) as channels (channel)
    cross join vocabulary
    union
    select
        customer_id,
        channel,
        subscription_group
    from customer_assertions
    where scope = 'group'
),

-- each assertion counted for every group it speaks about: a global one for every group of its channel
applied as (
    select
        grid.subscription_group,
        assertions.* exclude (subscription_group)  -- noqa: RF02
    from customer_assertions as assertions
    inner join grid
        on
            assertions.customer_id = grid.customer_id
            and assertions.channel = grid.channel
            and (assertions.scope = 'all' or assertions.subscription_group = grid.subscription_group)
),

ranked as (
    select
        *,
        max(case when scope = 'group' and severity > 1 then coalesce(asserted_at, cast('infinity' as timestamp)) end)
            over (partition by customer_id, channel, subscription_group) as last_group_restriction_at,
        max(case when scope = 'group' and severity = 1 then asserted_at end)
            over (partition by customer_id, channel, subscription_group) as last_group_resubscribe_at
    from applied
),

effective as (
    select *
    from ranked
    -- a group resubscribe later than every restriction of that group lifts them (never a global one)
    where
        not coalesce(
            scope = 'group' and severity > 1 and last_group_resubscribe_at > last_group_restriction_at, false
        )
    qualify row_number() over (
        partition by customer_id, channel, subscription_group
        order by
            severity desc,
            asserted_at desc nulls first,
            asserted_by_source_system asc,
            asserted_by_record_id asc,
            evidence_id asc
    ) = 1
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
