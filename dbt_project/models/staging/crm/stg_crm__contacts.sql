{#- Contacts and leads of every CRM export (raw_crm_contacts: salesforce contacts and leads, hubspot, zoho, dynamics,
    custom), normalised; one row per (source_system, source_record_id), the latest export of a record winning.
    Per-source rules are written below with `source_system` (the phone region: phone_region). A model that needs
    one source filters on source_system (and record_type for Salesforce contacts / leads). -#}
with

raw_contacts as (
    select * from {{ source('raw', 'raw_crm_contacts') }}
),

countries as ({{ country_lookup_cte() }}
),

nicknames as ({{ nickname_lookup_cte() }}
),

-- a record exported several times: the latest modification wins, then the latest ingest, file and line
latest_version as (
    select *
    from raw_contacts
    where nullif(trim(cast(source_record_id as varchar)), '') is not null
    qualify row_number() over (
        partition by source_system, trim(cast(source_record_id as varchar))
        order by
            try_cast(updated_at as timestamp) desc nulls last, _ingested_at desc nulls last,
            _source_file desc, _source_line desc
    ) = 1
),

cleaned as (
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
        -- Salesforce writes IsDeleted, the other exports is_deleted, into the row's extra columns
        coalesce(
            try_cast(json_extract_string(cast(extra as json), '$.IsDeleted') as boolean),
            try_cast(json_extract_string(cast(extra as json), '$.is_deleted') as boolean),
            false
        ) as is_flagged_deleted,
        try_cast(created_at as timestamp) as created_at,
        try_cast(updated_at as timestamp) as updated_at,
        _source_file,
        _source_line
    from latest_version
),

final as (
    select
        cleaned.source_system || ':' || cleaned.source_record_id as record_key,
        cleaned.source_system,
        cleaned.source_record_id,
        cleaned.record_type,
        cleaned.email,
        {{ email_domain('cleaned.email') }} as email_domain,
        -- a national number is read in the row's country, else in its source's default region
        {{ normalise_phone('cleaned.phone', "coalesce(countries.country_code, "
            ~ phone_region('cleaned.source_system') ~ ")") }} as phone_e164,
        {{ normalise_phone('cleaned.mobile_phone', "coalesce(countries.country_code, "
            ~ phone_region('cleaned.source_system') ~ ")") }} as mobile_phone_e164,
        cleaned.first_name,
        cleaned.last_name,
        cleaned.first_name_norm,
        cleaned.last_name_norm,
        coalesce(nicknames.canonical, cleaned.first_name_norm) as first_name_canonical,
        nullif(concat_ws(' ', cleaned.first_name_norm, cleaned.last_name_norm), '') as full_name_norm,
        cleaned.title,
        {{ seniority_from_title('cleaned.title') }} as seniority,
        cleaned.company,
        cleaned.company_norm,
        cleaned.street,
        cleaned.street_norm,
        cleaned.city,
        cleaned.city_norm,
        cleaned.state,
        cleaned.postal_code_norm,
        cleaned.country,
        countries.country_code,
        cleaned.birth_date,
        cleaned.time_zone,
        cleaned.lead_source,
        cleaned.lifecycle_stage,
        cleaned.lead_status,
        cleaned.has_opted_out_of_email,
        cleaned.do_not_call,
        cleaned.owner_id,
        cleaned.account_id,
        cleaned.industry,
        cleaned.employees,
        cleaned.annual_revenue,
        cleaned.product_interest,
        cleaned.purchase_timeframe,
        cleaned.budget,
        cleaned.converted_contact_id,
        cleaned.master_record_id,
        cleaned.xref_salesforce_id,
        cleaned.xref_hubspot_id,
        -- a Salesforce record merged into another keeps its row with MasterRecordId set
        (cleaned.is_flagged_deleted or cleaned.master_record_id is not null) as is_deleted,
        cleaned.created_at,
        cleaned.updated_at,
        cleaned._source_file,
        cleaned._source_line
    from cleaned
    left join countries on cleaned.country_key = countries.country_key
    left join nicknames on cleaned.first_name_norm = nicknames.nickname
)

select * from final
