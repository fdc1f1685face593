{#- Deals of every CRM export (raw_crm_deals: Salesforce opportunities, HubSpot deals, zoho, dynamics, custom) with
    the record_key of their primary contact; one row per (source_system, deal_id), the latest export winning. -#}
with

raw_deals as (
    select * from {{ source('raw', 'raw_crm_deals') }}
),

latest_version as (
    select *
    from raw_deals
    where nullif(trim(cast(deal_id as varchar)), '') is not null
    qualify row_number() over (
        partition by source_system, trim(cast(deal_id as varchar))
        order by _ingested_at desc nulls last, _source_file desc, _source_line desc
    ) = 1
),

final as (
    select
        source_system || ':' || trim(cast(deal_id as varchar)) as deal_key,
        source_system,
        trim(cast(deal_id as varchar)) as deal_id,
        nullif(trim(cast(contact_source_record_id as varchar)), '') as contact_source_record_id,
        source_system || ':' || nullif(trim(cast(contact_source_record_id as varchar)), '') as contact_record_key,
        nullif(trim(cast(account_id as varchar)), '') as account_id,
        nullif(trim(deal_name), '') as deal_name,
        nullif(trim(account_name), '') as account_name,
        nullif(trim(product), '') as product,
        nullif(trim(stage), '') as stage,
        upper(nullif(trim(currency), '')) as currency,
        coalesce(try_cast(is_closed as boolean), false) as is_closed,
        coalesce(try_cast(is_won as boolean), false) as is_won,
        try_cast(amount as double) as amount,
        try_cast(close_date as date) as close_date,
        try_cast(created_at as timestamp) as created_at,
        _source_file,
        _source_line
    from latest_version
)

select * from final
