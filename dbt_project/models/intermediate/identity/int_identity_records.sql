{#- The identity engine's input (the interface with the identity-resolution asset, issue #4): one row per source
    record that describes a person.
    - CRM contacts and leads: one row per CRM record;
    - Mailchimp: one row per member (LEID, else EUID);
    - SendGrid, Zoom, Teams: one row per distinct normalised email, source_record_id = that email. -#}
with

crm as (
    select * from {{ ref('stg_crm__contacts') }}
),

mailchimp as (
    select * from {{ ref('stg_mailchimp__members') }}
),

sendgrid_emails as (
    select
        email,
        occurred_at as seen_at
    from {{ ref('stg_sendgrid__events') }}
    union all
    select
        email,
        created_at as seen_at
    from {{ ref('stg_email__suppressions') }}
    where source_system = 'sendgrid'
),

webinar_sessions as (
    select
        source_system,
        email,
        phone_e164,
        first_name,
        last_name,
        first_name_norm,
        last_name_norm,
        name,
        country_code,
        coalesce(joined_at, webinar_start_at) as seen_at
    from {{ ref('stg_webinar__attendances') }}
    where email is not null
),

webinar_registrations as (
    select * from {{ ref('stg_webinar__registrations') }}
),

nicknames as ({{ nickname_lookup_cte() }}
),

crm_records as (
    select
        record_key,
        source_system,
        source_record_id,
        record_type,
        email,
        email_domain,
        coalesce(phone_e164, mobile_phone_e164) as phone_e164,
        first_name,
        last_name,
        first_name_norm,
        last_name_norm,
        first_name_canonical,
        full_name_norm,
        company,
        company_norm,
        title,
        street_norm,
        city_norm,
        postal_code_norm,
        country_code,
        birth_date,
        time_zone,
        industry,
        employees,
        xref_salesforce_id,
        xref_hubspot_id,
        converted_contact_id,
        master_record_id,
        is_deleted,
        created_at,
        updated_at
    from crm
),

mailchimp_records as (
    select
        record_key,
        source_system,
        source_record_id,
        'member' as record_type,
        email,
        email_domain,
        phone_e164,
        first_name,
        last_name,
        first_name_norm,
        last_name_norm,
        first_name_canonical,
        full_name_norm,
        null as company,
        null as company_norm,
        null as title,
        street_norm,
        city_norm,
        postal_code_norm,
        country_code,
        null::date as birth_date,
        time_zone,
        null as industry,
        null::integer as employees,
        null as xref_salesforce_id,
        null as xref_hubspot_id,
        null as converted_contact_id,
        null as master_record_id,
        false as is_deleted,
        coalesce(optin_at, confirm_at, last_changed_at) as created_at,
        coalesce(last_changed_at, unsubscribed_at, cleaned_at, confirm_at, optin_at) as updated_at
    from mailchimp
),

sendgrid_records as (
    select
        'sendgrid:' || email as record_key,
        'sendgrid' as source_system,
        email as source_record_id,
        'recipient' as record_type,
        email,
        {{ email_domain('email') }} as email_domain,
        null as phone_e164,
        null as first_name,
        null as last_name,
        null as first_name_norm,
        null as last_name_norm,
        null as first_name_canonical,
        null as full_name_norm,
        null as company,
        null as company_norm,
        null as title,
        null as street_norm,
        null as city_norm,
        null as postal_code_norm,
        null as country_code,
        null::date as birth_date,
        null as time_zone,
        null as industry,
        null::integer as employees,
        null as xref_salesforce_id,
        null as xref_hubspot_id,
        null as converted_contact_id,
        null as master_record_id,
        false as is_deleted,
        min(seen_at) as created_at,
        max(seen_at) as updated_at
    from sendgrid_emails
    where email is not null
    group by email
),

-- A webinar attendee's names and phone: the latest registration's, else the attendance report's (the original name
-- when Zoom gives "User Name (Original Name)", split into first / last).
webinar_people as (
    select
        source_system,
        email,
        seen_at,
        phone_e164,
        first_name,
        last_name,
        first_name_norm,
        last_name_norm,
        null as company,
        null as company_norm,
        null as title,
        country_code,
        2 as preference
    from webinar_sessions
    union all
    select
        source_system,
        email,
        registered_at as seen_at,
        phone_e164,
        first_name,
        last_name,
        first_name_norm,
        last_name_norm,
        company,
        company_norm,
        title,
        country_code,
        1 as preference
    from webinar_registrations
),

webinar_records as (
    select
        webinar_people.source_system || ':' || webinar_people.email as record_key,
        webinar_people.source_system,
        webinar_people.email as source_record_id,
        'attendee' as record_type,
        webinar_people.email,
        {{ email_domain('email') }} as email_domain,
        first(phone_e164 order by webinar_people.preference asc, webinar_people.seen_at desc nulls last)
        filter (where phone_e164 is not null) as phone_e164,
        first(first_name order by webinar_people.preference asc, webinar_people.seen_at desc nulls last) filter (where first_name is not null)
            as first_name,
        first(last_name order by webinar_people.preference asc, webinar_people.seen_at desc nulls last) filter (where last_name is not null)
            as last_name,
        first(first_name_norm order by webinar_people.preference asc, webinar_people.seen_at desc nulls last)
        filter (where first_name_norm is not null) as first_name_norm,
        first(last_name_norm order by webinar_people.preference asc, webinar_people.seen_at desc nulls last)
        filter (where last_name_norm is not null) as last_name_norm,
        null as first_name_canonical,
        null as full_name_norm,
        first(company order by webinar_people.preference asc, webinar_people.seen_at desc nulls last) filter (where company is not null) as company,
        first(company_norm order by webinar_people.preference asc, webinar_people.seen_at desc nulls last)
        filter (where company_norm is not null) as company_norm,
        first(title order by webinar_people.preference asc, webinar_people.seen_at desc nulls last) filter (where title is not null) as title,
        null as street_norm,
        null as city_norm,
        null as postal_code_norm,
        first(country_code order by webinar_people.preference asc, webinar_people.seen_at desc nulls last)
        filter (where country_code is not null) as country_code,
        null::date as birth_date,
        null as time_zone,
        null as industry,
        null::integer as employees,
        null as xref_salesforce_id,
        null as xref_hubspot_id,
        null as converted_contact_id,
        null as master_record_id,
        false as is_deleted,
        min(webinar_people.seen_at) as created_at,
        max(webinar_people.seen_at) as updated_at
    from webinar_people
    group by webinar_people.source_system, webinar_people.email
),

webinar_records_named as (
    select
        webinar_records.* replace (
            coalesce(nicknames.canonical, webinar_records.first_name_norm) as first_name_canonical,
            nullif(concat_ws(' ', webinar_records.first_name_norm, webinar_records.last_name_norm), '')
                as full_name_norm
        )
    from webinar_records
    left join nicknames on webinar_records.first_name_norm = nicknames.nickname
),

unioned as (
    select * from crm_records
    union all by name
    select * from mailchimp_records
    union all by name
    select * from sendgrid_records
    union all by name
    select * from webinar_records_named
),

final as (
    select
        record_key,
        source_system,
        source_record_id,
        record_type,
        email,
        email_domain,
        phone_e164,
        first_name,
        last_name,
        first_name_norm,
        last_name_norm,
        first_name_canonical,
        full_name_norm,
        company,
        company_norm,
        title,
        street_norm,
        city_norm,
        postal_code_norm,
        country_code,
        birth_date,
        time_zone,
        industry,
        employees,
        xref_salesforce_id,
        xref_hubspot_id,
        converted_contact_id,
        master_record_id,
        coalesce(is_deleted, false) as is_deleted,
        created_at,
        updated_at
    from unioned
)

select * from final
