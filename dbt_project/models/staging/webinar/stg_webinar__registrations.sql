{#- Registrations of every webinar platform (raw_webinar_registrations: Zoom and Teams); one row per
    (source_system, webinar, email), the latest registration winning. -#}
with

raw_registrations as (
    select * from {{ source('raw', 'raw_webinar_registrations') }}
    -- the raw contract (docs/architecture.md) may lack phone, which ingest writes when the report has it
    union all by name
    {{ optional_columns({'phone': 'varchar'}) }}
),

countries as ({{ country_lookup_cte() }}
),

nicknames as ({{ nickname_lookup_cte() }}
),

cleaned as (
    select
        source_system,
        trim(cast(webinar_id as varchar)) as webinar_id,
        nullif(trim(webinar_topic), '') as webinar_topic,
        {{ normalise_email('email') }} as email,
        nullif(trim(first_name), '') as first_name,
        nullif(trim(last_name), '') as last_name,
        {{ normalise_name('first_name') }} as first_name_norm,
        {{ normalise_name('last_name') }} as last_name_norm,
        nullif(trim(company), '') as company,
        {{ normalise_company('company') }} as company_norm,
        nullif(trim(title), '') as title,
        nullif(trim(phone), '') as phone,
        nullif(trim(country), '') as country,
        {{ country_key('country') }} as country_key,
        nullif(lower(trim(approval_status)), '') as approval_status,
        try_cast(registered_at as timestamp) as registered_at,
        _ingested_at,
        _source_file,
        _source_line
    from raw_registrations
),

latest_registration as (
    select *
    from cleaned
    where email is not null
    qualify row_number() over (
        partition by source_system, webinar_id, email
        order by registered_at desc nulls last, _ingested_at desc, _source_file desc, _source_line desc
    ) = 1
),

final as (
    select
        latest_registration.source_system || ':' || latest_registration.webinar_id || ':' || latest_registration.email
            as registration_id,
        latest_registration.source_system,
        latest_registration.webinar_id,
        latest_registration.webinar_topic,
        latest_registration.source_system || ':' || latest_registration.email as attendee_record_key,
        latest_registration.email,
        {{ email_domain('latest_registration.email') }} as email_domain,
        latest_registration.first_name,
        latest_registration.last_name,
        latest_registration.first_name_norm,
        latest_registration.last_name_norm,
        coalesce(nicknames.canonical, latest_registration.first_name_norm) as first_name_canonical,
        latest_registration.company,
        latest_registration.company_norm,
        latest_registration.title,
        latest_registration.phone,
        -- a national number is read in the registrant's country, else in its platform's default region
        {{ normalise_phone('latest_registration.phone', "coalesce(countries.country_code, "
            ~ phone_region('latest_registration.source_system') ~ ")") }} as phone_e164,
        latest_registration.country,
        countries.country_code,
        latest_registration.approval_status,
        latest_registration.registered_at,
        latest_registration._source_file,
        latest_registration._source_line
    from latest_registration
    left join countries on latest_registration.country_key = countries.country_key
    left join nicknames on latest_registration.first_name_norm = nicknames.nickname
)

select * from final
