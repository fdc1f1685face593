{#- Mailchimp audience members: one row per member (LEID, else EUID, else email), the latest export wins. -#}
with

source as (
    select * from {{ source('raw', 'raw_email_audience') }}
    where source_system = 'mailchimp'
),

countries as ({{ country_lookup_cte() }}
),

nicknames as ({{ nickname_lookup_cte() }}
),

renamed as (
    select
        source_system,
        coalesce(
            nullif(trim(cast(leid as varchar)), ''), nullif(trim(cast(euid as varchar)), ''),
            nullif(trim(cast(source_record_id as varchar)), '')
        ) as source_record_id,
        nullif(trim(cast(leid as varchar)), '') as leid,
        nullif(trim(cast(euid as varchar)), '') as euid,
        lower(trim(list_status)) as list_status,
        {{ normalise_email('email') }} as email,
        nullif(trim(phone), '') as phone,
        nullif(trim(first_name), '') as first_name,
        nullif(trim(last_name), '') as last_name,
        {{ normalise_name('first_name') }} as first_name_norm,
        {{ normalise_name('last_name') }} as last_name_norm,
        nullif(trim(cast(address as varchar)), '') as address,
        -- Mailchimp exports an address field as its parts joined by two spaces:
        -- "addr1  addr2  city  state  zip  country" (addr2 may be absent); read from the right
        string_split(trim(cast(address as varchar)), '  ') as address_parts,
        try_cast(member_rating as integer) as member_rating,
        nullif(trim(cast(tags as varchar)), '') as tags,
        nullif(trim(unsub_reason), '') as unsub_reason,
        nullif(trim(clean_reason), '') as clean_reason,
        nullif(trim(timezone), '') as time_zone,
        nullif(trim(country_code), '') as country_raw,
        try_cast(optin_at as timestamp) as optin_at,
        try_cast(confirm_at as timestamp) as confirm_at,
        try_cast(last_changed_at as timestamp) as last_changed_at,
        try_cast(unsubscribed_at as timestamp) as unsubscribed_at,
        try_cast(cleaned_at as timestamp) as cleaned_at,
        _ingested_at,
        _source_file,
        _source_line
    from source
),

parsed as (
    select
        *,
        {{ mailchimp_address_part('address_parts', 'street') }} as address_street,
        {{ mailchimp_address_part('address_parts', 'city') }} as address_city,
        {{ mailchimp_address_part('address_parts', 'state') }} as address_state,
        {{ mailchimp_address_part('address_parts', 'zip') }} as address_zip,
        {{ mailchimp_address_part('address_parts', 'country') }} as address_country
    from renamed
),

located as (
    select
        *,
        -- the postal address's country, else the one Mailchimp located the subscriber in (CC)
        {{ country_key("coalesce(nullif(trim(address_country), ''), country_raw)") }} as country_key
    from parsed
),

deduplicated as (
    select *
    from located
    where source_record_id is not null
    qualify row_number() over (
        partition by source_record_id
        order by last_changed_at desc nulls last, _ingested_at desc, _source_file desc, _source_line desc
    ) = 1
),

final as (
    select
        'mailchimp:' || deduplicated.source_record_id as record_key,
        deduplicated.source_system,
        deduplicated.source_record_id,
        deduplicated.leid,
        deduplicated.euid,
        deduplicated.list_status,
        deduplicated.email,
        {{ email_domain('deduplicated.email') }} as email_domain,
        {{ normalise_phone('deduplicated.phone', "coalesce(countries.country_code, " ~ phone_region("'mailchimp'") ~ ")") }}
            as phone_e164,
        deduplicated.first_name,
        deduplicated.last_name,
        deduplicated.first_name_norm,
        deduplicated.last_name_norm,
        coalesce(nicknames.canonical, deduplicated.first_name_norm) as first_name_canonical,
        nullif(concat_ws(' ', deduplicated.first_name_norm, deduplicated.last_name_norm), '') as full_name_norm,
        deduplicated.address,
        {{ normalise_street('deduplicated.address_street') }} as street_norm,
        {{ normalise_name('deduplicated.address_city') }} as city_norm,
        nullif(trim(deduplicated.address_state), '') as state,
        {{ normalise_postal_code('deduplicated.address_zip') }} as postal_code_norm,
        deduplicated.member_rating,
        deduplicated.tags,
        deduplicated.unsub_reason,
        deduplicated.clean_reason,
        deduplicated.time_zone,
        countries.country_code,
        deduplicated.optin_at,
        deduplicated.confirm_at,
        deduplicated.last_changed_at,
        deduplicated.unsubscribed_at,
        deduplicated.cleaned_at,
        deduplicated._source_file,
        deduplicated._source_line
    from deduplicated
    left join countries on deduplicated.country_key = countries.country_key
    left join nicknames on deduplicated.first_name_norm = nicknames.nickname
)

select * from final
