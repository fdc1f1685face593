{#- The single customer view: one row per customer_id of identity_clusters; each attribute chosen among the
    customer's records by the survivorship rule configured for it (config/survivorship.yaml), with
    `<attribute>_source` = source_system:source_record_id of the record that supplied it. -#}
with

crosswalk as (
    select * from {{ ref('customer_crosswalk') }}
),

records as (
    select * from {{ ref('int_identity_records') }}
),

deals as (
    select
        contact_record_key,
        is_won
    from {{ ref('stg_crm__deals') }}
),

touchpoints as (
    select
        customer_id,
        max(occurred_at) as last_touch_at
    from {{ ref('fct_touchpoints') }}
    group by customer_id
),

candidates as (
    select
        records.*,
        crosswalk.customer_id,
        records.source_system || ':' || records.source_record_id as record_ref,
        (case
            when records.first_name is not null or records.last_name is not null
                then struct_pack(first_name := records.first_name, last_name := records.last_name)
        end) as name,
        {#- how many person attributes a record fills (the most_complete rule) -#}
        
        (records.email is not null)::int + (records.phone_e164 is not null)::int
        + (records.first_name is not null)::int + (records.last_name is not null)::int
        + (records.title is not null)::int + (records.company is not null)::int
        + (records.street_norm is not null)::int + (records.city_norm is not null)::int
        + (records.postal_code_norm is not null)::int + (records.country_code is not null)::int
        + (records.birth_date is not null)::int + (records.time_zone is not null)::int
        + (records.industry is not null)::int + (records.employees is not null)::int as completeness
    from records
    inner join crosswalk on records.record_key = crosswalk.record_key
),

golden as (
    select
        customer_id,
        {{ survive('email') }},
        {{ survive('name', prefer='(first_name is null or last_name is null)') }},
        {{ survive('phone_e164') }},
        {{ survive('title') }},
        {{ survive('company') }},
        {{ survive('industry') }},
        {{ survive('employees') }},
        {{ survive('country_code') }},
        {{ survive('time_zone') }},
        list_sort(list(distinct source_system)) as source_systems,
        count(*) as source_record_count,
        min(created_at) as first_seen_at,
        max(coalesce(updated_at, created_at)) as last_record_at
    from candidates
    group by customer_id
),

customers_with_won_deals as (
    select distinct crosswalk.customer_id
    from deals
    inner join crosswalk on deals.contact_record_key = crosswalk.record_key
    where deals.is_won
),

final as (
    select
        golden.customer_id,
        golden.email,
        golden.name['first_name'] as first_name,
        golden.name['last_name'] as last_name,
        nullif(concat_ws(' ', golden.name['first_name'], golden.name['last_name']), '') as full_name,
        golden.phone_e164,
        golden.title,
        {{ seniority_from_title('golden.title') }} as seniority,
        golden.company,
        golden.industry,
        golden.employees,
        golden.country_code,
        golden.time_zone,
        (won.customer_id is not null) as is_customer,
        golden.source_systems,
        golden.source_record_count,
        golden.email_source,
        golden.name_source,
        golden.name_source as first_name_source,
        golden.name_source as last_name_source,
        golden.phone_e164_source,
        golden.title_source,
        golden.company_source,
        golden.industry_source,
        golden.employees_source,
        golden.country_code_source,
        golden.time_zone_source,
        golden.first_seen_at,
        greatest(golden.last_record_at, touchpoints.last_touch_at) as last_seen_at
    from golden
    left join customers_with_won_deals as won on golden.customer_id = won.customer_id
    left join touchpoints on golden.customer_id = touchpoints.customer_id
)

select * from final
