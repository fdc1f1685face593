{#- CRM health per source system: what operations should fix in each CRM or list.

    - duplicate_records: records that identity resolution put on the same customer as another record of the same
      source (the extra ones: a group of 3 counts 2);
    - emails_missing_or_invalid: no email, or one that is not an address after normalisation;
    - consent_missing: the record's customer has no known email consent (absent or `unknown`);
    - conflicting_title / _company / _phone: records whose value differs from another source's value for the
      same customer;
    - stale_records: not updated in 365 days before the run's as-of time (a fixed threshold: the former dbt var
      `crm_stale_days` was never set by any config file). -#}
{%- set as_of = var('as_of', none) -%}
{%- set as_of_sql = ("cast('" ~ as_of ~ "' as timestamp)") if as_of else "date_trunc('second', cast(timezone('UTC', current_timestamp) as timestamp))" -%}
{%- set stale_days = 365 -%}
with

records as (
    select * from {{ ref('int_identity_records') }}
),

crosswalk as (
    select
        record_key,
        customer_id
    from {{ ref('customer_crosswalk') }}
),

consent as (
    select customer_id
    from {{ ref('customer_consent') }}
    where channel = 'email' and consent_state <> 'unknown'
    group by customer_id
),

linked as (
    select
        records.record_key,
        records.source_system,
        crosswalk.customer_id,
        records.email,
        nullif(lower(trim(records.title)), '') as title_value,
        nullif(records.company_norm, '') as company_value,
        records.phone_e164 as phone_value,
        records.updated_at
    from records
    left join crosswalk on records.record_key = crosswalk.record_key
),

per_source_group as (
    select
        customer_id,
        source_system,
        count(*) as group_records
    from linked
    where customer_id is not null
    group by customer_id, source_system
),

{%- for attribute in ['title', 'company', 'phone'] %}

    {{ attribute }}_values as (
        select distinct
            customer_id,
            source_system,
            {{ attribute }}_value as value
        from linked
        where customer_id is not null and {{ attribute }}_value is not null
    ),

    {{ attribute }}_conflicts as (
        select distinct
            mine.customer_id,
            mine.source_system,
            mine.value
        from {{ attribute }}_values as mine
        inner join {{ attribute }}_values as other
            on
                mine.customer_id = other.customer_id
                and mine.source_system <> other.source_system
                and mine.value <> other.value
    ),
{%- endfor %}

flagged as (
    select
        linked.source_system,
        linked.record_key,
        linked.customer_id,
        linked.email is null
        or not regexp_matches(linked.email, '{{ var("email_pattern") }}') as is_email_missing_or_invalid,
        linked.customer_id is not null and consent.customer_id is null as is_consent_missing,
        title_conflicts.customer_id is not null as has_conflicting_title,
        company_conflicts.customer_id is not null as has_conflicting_company,
        phone_conflicts.customer_id is not null as has_conflicting_phone,
        linked.updated_at < {{ as_of_sql }} - interval {{ stale_days }} day as is_stale
    from linked
    left join consent on linked.customer_id = consent.customer_id
    left join title_conflicts
        on
            linked.customer_id = title_conflicts.customer_id
            and linked.source_system = title_conflicts.source_system
            and linked.title_value = title_conflicts.value
    left join company_conflicts
        on
            linked.customer_id = company_conflicts.customer_id
            and linked.source_system = company_conflicts.source_system
            and linked.company_value = company_conflicts.value
    left join phone_conflicts
        on
            linked.customer_id = phone_conflicts.customer_id
            and linked.source_system = phone_conflicts.source_system
            and linked.phone_value = phone_conflicts.value
),

duplicates as (
    select
        source_system,
        sum(group_records - 1) as duplicate_records
    from per_source_group
    where group_records > 1
    group by source_system
),

summary as (
    select
        source_system,
        count(*) as records,
        count(distinct customer_id) as customers,
        count_if(is_email_missing_or_invalid) as emails_missing_or_invalid,
        count_if(is_consent_missing) as consent_missing,
        count_if(has_conflicting_title) as conflicting_title,
        count_if(has_conflicting_company) as conflicting_company,
        count_if(has_conflicting_phone) as conflicting_phone,
        count_if(is_stale) as stale_records
    from flagged
    group by source_system
),

final as (
    select
        summary.source_system,
        summary.records,
        summary.customers,
        coalesce(duplicates.duplicate_records, 0) as duplicate_records,
        summary.emails_missing_or_invalid,
        summary.consent_missing,
        summary.conflicting_title,
        summary.conflicting_company,
        summary.conflicting_phone,
        summary.stale_records,
        {{ stale_days }} as stale_after_days,
        {{ as_of_sql }} as as_of_at
    from summary
    left join duplicates on summary.source_system = duplicates.source_system
)

select * from final
