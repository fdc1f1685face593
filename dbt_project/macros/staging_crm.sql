{#- Country lookup: the country_codes seed keyed by the folded alias (one code per key). -#}
{% macro country_lookup_cte() -%}
  select keyed.country_key, min(keyed.country_code) as country_code
  from (select {{ country_key('alias') }} as country_key, country_code from {{ ref('country_codes') }}) as keyed
  group by keyed.country_key
{%- endmacro %}

{#- Nickname lookup: first-name nickname (folded) -> canonical first name. -#}
{% macro nickname_lookup_cte() -%}
  select keyed.nickname, min(keyed.canonical) as canonical
  from (
    select {{ normalise_name('nickname') }} as nickname, {{ normalise_name('canonical') }} as canonical
    from {{ ref('nicknames') }}
  ) as keyed
  group by keyed.nickname
{%- endmacro %}

{#- Staging for raw_crm_contacts rows of `source_systems`, optionally one record_type (contact | lead).
    One row per (source_system, source_record_id): the latest export of a record wins. -#}
{% macro stage_crm_contacts(source_systems, record_type=none) -%}
with

source as (
    select * from {{ source('raw', 'raw_crm_contacts') }}
    where source_system in ('{{ source_systems | join("', '") }}')
    {%- if record_type %} and lower(record_type) = '{{ record_type }}'{% endif %}
),

countries as ({{ country_lookup_cte() }}),

nicknames as ({{ nickname_lookup_cte() }}),

latest as (
    select *
    from source
    where nullif(trim(cast(source_record_id as varchar)), '') is not null
    qualify row_number() over (
        partition by source_system, trim(cast(source_record_id as varchar))
        order by try_cast(updated_at as timestamp) desc nulls last, _ingested_at desc nulls last,
            _source_file desc, _source_line desc
    ) = 1
),

renamed as (
    select
        source_system,
        trim(cast(source_record_id as varchar)) as source_record_id,
        lower(trim(record_type)) as record_type,
        {{ normalise_email('email') }} as email,
        nullif(trim(phone), '') as phone,
        nullif(trim(mobile_phone), '') as mobile_phone,
        nullif(trim(first_name), '') as first_name,
        nullif(trim(last_name), '') as last_name,
        {{ normalise_name('first_name') }} as first_name_norm,
        {{ normalise_name('last_name') }} as last_name_norm,
        nullif(trim(title), '') as title,
        nullif(trim(company), '') as company,
        {{ normalise_company('company') }} as company_norm,
        nullif(trim(street), '') as street,
        {{ normalise_street('street') }} as street_norm,
        nullif(trim(city), '') as city,
        {{ normalise_name('city') }} as city_norm,
        nullif(trim(state), '') as state,
        {{ normalise_postal_code('postal_code') }} as postal_code_norm,
        nullif(trim(country), '') as country,
        {{ country_key('country') }} as country_key,
        try_cast(birth_date as date) as birth_date,
        nullif(trim(time_zone), '') as time_zone,
        nullif(trim(lead_source), '') as lead_source,
        nullif(trim(lifecycle_stage), '') as lifecycle_stage,
        nullif(trim(lead_status), '') as lead_status,
        try_cast(has_opted_out_of_email as boolean) as has_opted_out_of_email,
        try_cast(do_not_call as boolean) as do_not_call,
        nullif(trim(cast(owner_id as varchar)), '') as owner_id,
        nullif(trim(cast(account_id as varchar)), '') as account_id,
        nullif(trim(industry), '') as industry,
        try_cast(employees as integer) as employees,
        try_cast(annual_revenue as double) as annual_revenue,
        nullif(trim(product_interest), '') as product_interest,
        nullif(trim(purchase_timeframe), '') as purchase_timeframe,
        try_cast(budget as double) as budget,
        nullif(trim(cast(converted_contact_id as varchar)), '') as converted_contact_id,
        nullif(trim(cast(master_record_id as varchar)), '') as master_record_id,
        nullif(trim(cast(xref_salesforce_id as varchar)), '') as xref_salesforce_id,
        nullif(trim(cast(xref_hubspot_id as varchar)), '') as xref_hubspot_id,
        coalesce(
            try_cast(json_extract_string(cast(extra as json), '$.IsDeleted') as boolean),
            try_cast(json_extract_string(cast(extra as json), '$.is_deleted') as boolean),
            false
        ) as is_flagged_deleted,
        try_cast(created_at as timestamp) as created_at,
        try_cast(updated_at as timestamp) as updated_at,
        _source_file,
        _source_line
    from latest
),

final as (
    select
        renamed.source_system || ':' || renamed.source_record_id as record_key,
        renamed.source_system,
        renamed.source_record_id,
        renamed.record_type,
        renamed.email,
        {{ email_domain('renamed.email') }} as email_domain,
        {{ normalise_phone('renamed.phone', "coalesce(countries.country_code, " ~ phone_region('renamed.source_system') ~ ")") }} as phone_e164,
        {{ normalise_phone('renamed.mobile_phone', "coalesce(countries.country_code, " ~ phone_region('renamed.source_system') ~ ")") }} as mobile_phone_e164,
        renamed.first_name,
        renamed.last_name,
        renamed.first_name_norm,
        renamed.last_name_norm,
        coalesce(nicknames.canonical, renamed.first_name_norm) as first_name_canonical,
        nullif(concat_ws(' ', renamed.first_name_norm, renamed.last_name_norm), '') as full_name_norm,
        renamed.title,
        {{ seniority_from_title('renamed.title') }} as seniority,
        renamed.company,
        renamed.company_norm,
        renamed.street,
        renamed.street_norm,
        renamed.city,
        renamed.city_norm,
        renamed.state,
        renamed.postal_code_norm,
        renamed.country,
        countries.country_code,
        renamed.birth_date,
        renamed.time_zone,
        renamed.lead_source,
        renamed.lifecycle_stage,
        renamed.lead_status,
        renamed.has_opted_out_of_email,
        renamed.do_not_call,
        renamed.owner_id,
        renamed.account_id,
        renamed.industry,
        renamed.employees,
        renamed.annual_revenue,
        renamed.product_interest,
        renamed.purchase_timeframe,
        renamed.budget,
        renamed.converted_contact_id,
        renamed.master_record_id,
        renamed.xref_salesforce_id,
        renamed.xref_hubspot_id,
        (renamed.is_flagged_deleted or renamed.master_record_id is not null) as is_deleted,
        renamed.created_at,
        renamed.updated_at,
        renamed._source_file,
        renamed._source_line
    from renamed
    left join countries on renamed.country_key = countries.country_key
    left join nicknames on renamed.first_name_norm = nicknames.nickname
)

select * from final
{%- endmacro %}

{#- Staging for raw_crm_deals rows of `source_systems`: one row per (source_system, deal_id), latest export wins. -#}
{% macro stage_crm_deals(source_systems) -%}
with

source as (
    select * from {{ source('raw', 'raw_crm_deals') }}
    where source_system in ('{{ source_systems | join("', '") }}')
),

latest as (
    select *
    from source
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
    from latest
)

select * from final
{%- endmacro %}
