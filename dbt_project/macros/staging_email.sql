{#- An empty row set with the given columns (name -> type), to `union all by name` onto a raw table whose contract
    (docs/architecture.md) does not list a column that ingest writes when the file has it (webinar phones and
    separate first / last names): the column is then NULL instead of a binder error. -#}
{% macro optional_columns(columns) -%}
  select
    {%- for name, data_type in columns.items() %} cast(null as {{ data_type }}) as {{ name }}{% if not loop.last %},{% endif %}
    {%- endfor %}
  where false
{%- endmacro %}

{#- Suppression list entries of one source system, one row per (list, email, group). -#}
{% macro stage_email_suppressions(source_system) -%}
with

source as (
    select * from {{ source('raw', 'raw_email_suppressions') }}
    where source_system = '{{ source_system }}'
),

renamed as (
    select
        source_system,
        lower(trim(suppression_list)) as suppression_list,
        {{ normalise_email('email') }} as email,
        nullif(trim(reason), '') as reason,
        nullif(trim(cast(status as varchar)), '') as status,
        try_cast(asm_group_id as integer) as asm_group_id,
        try_cast(created_at as timestamp) as created_at,
        _ingested_at,
        _source_file,
        _source_line
    from source
),

deduplicated as (
    select *
    from renamed
    where email is not null
    qualify row_number() over (
        partition by suppression_list, email, coalesce(asm_group_id, -1)
        order by created_at desc nulls last, _ingested_at desc, _source_file desc, _source_line desc
    ) = 1
),

final as (
    select
        source_system || ':' || suppression_list || ':' || coalesce(cast(asm_group_id as varchar) || ':', '')
            || email as suppression_id,
        source_system,
        suppression_list,
        email,
        {{ email_domain('email') }} as email_domain,
        asm_group_id,
        reason,
        status,
        created_at,
        _source_file,
        _source_line
    from deduplicated
)

select * from final
{%- endmacro %}

{#- Webinar attendance sessions of one platform (one row per join/leave session, repeated exports removed). -#}
{% macro stage_webinar_attendances(source_system) -%}
with

source as (
    select * from {{ source('raw', 'raw_webinar_attendance') }}
    where source_system = '{{ source_system }}'
    union all by name
    {{ optional_columns({'first_name': 'varchar', 'last_name': 'varchar', 'phone': 'varchar'}) }}
),

countries as ({{ country_lookup_cte() }}),

renamed as (
    select
        source_system,
        trim(cast(webinar_id as varchar)) as webinar_id,
        nullif(trim(webinar_topic), '') as webinar_topic,
        try_cast(webinar_start_at as timestamp) as webinar_start_at,
        coalesce(nullif(lower(trim(role)), ''), 'attendee') as role,
        {{ normalise_email('email') }} as email,
        nullif(trim(name), '') as name,
        {{ webinar_display_name('name') }} as display_name,
        {{ webinar_original_name('name') }} as original_name,
        nullif(trim(first_name), '') as given_first_name,
        nullif(trim(last_name), '') as given_last_name,
        nullif(trim(phone), '') as phone,
        try_cast(joined_at as timestamp) as joined_at,
        try_cast(left_at as timestamp) as left_at,
        try_cast(duration_minutes as double) as duration_minutes,
        try_cast(is_guest as boolean) as is_guest,
        nullif(trim(country), '') as country,
        {{ country_key('country') }} as country_key,
        _ingested_at,
        _source_file,
        _source_line
    from source
),

deduplicated as (
    select *
    from renamed
    qualify row_number() over (
        partition by webinar_id, coalesce(email, name, ''), joined_at, left_at
        order by _ingested_at, _source_file, _source_line
    ) = 1
),

{#- The person's name: the original (registered) name when Zoom gives "User Name (Original Name)", else the display
    name unless it names a phone line, a room or a device ("Call-in User_1", "Conference Room B", "iPhone");
    first / last names the report gives separately win over the split of the full name. -#}
named as (
    select
        *,
        {{ clean_person_name("coalesce(original_name, case when not regexp_matches(lower(display_name), "
            ~ "'^(call-in user|dial-in user|phone user|conference room|meeting room|room\s|zoom user|zoom room|"
            ~ "teams room|iphone|ipad|android|galaxy|pixel|macbook|guest\s*\d*$|unknown)') then display_name end)") }}
            as person_name
    from deduplicated
),

split_names as (
    select
        *,
        coalesce(given_first_name, {{ first_name_part('person_name') }}) as first_name,
        case
            when given_first_name is not null or given_last_name is not null then given_last_name
            else {{ last_name_part('person_name') }}
        end as last_name
    from named
),

final as (
    select
        md5(concat_ws('|', source_system, webinar_id, coalesce(email, name, ''),
            coalesce(cast(joined_at as varchar), ''), coalesce(cast(left_at as varchar), ''))) as attendance_id,
        split_names.source_system,
        webinar_id,
        webinar_topic,
        webinar_start_at,
        role,
        case when email is not null then source_system || ':' || email end as attendee_record_key,
        email,
        {{ email_domain('email') }} as email_domain,
        name,
        display_name,
        original_name,
        first_name,
        last_name,
        {{ normalise_name('first_name') }} as first_name_norm,
        {{ normalise_name('last_name') }} as last_name_norm,
        phone,
        {{ normalise_phone('phone', "coalesce(countries.country_code, " ~ phone_region('split_names.source_system') ~ ")") }}
            as phone_e164,
        is_guest,
        country,
        countries.country_code,
        coalesce(duration_minutes, date_diff('second', joined_at, left_at) / 60.0) as duration_minutes,
        joined_at,
        left_at,
        _source_file,
        _source_line
    from split_names
    left join countries on split_names.country_key = countries.country_key
)

select * from final
{%- endmacro %}

{#- Webinar registrations of one platform, one row per (webinar, email): the latest registration. -#}
{% macro stage_webinar_registrations(source_system) -%}
with

source as (
    select * from {{ source('raw', 'raw_webinar_registrations') }}
    where source_system = '{{ source_system }}'
    union all by name
    {{ optional_columns({'phone': 'varchar'}) }}
),

countries as ({{ country_lookup_cte() }}),

nicknames as ({{ nickname_lookup_cte() }}),

renamed as (
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
    from source
),

deduplicated as (
    select *
    from renamed
    where email is not null
    qualify row_number() over (
        partition by webinar_id, email
        order by registered_at desc nulls last, _ingested_at desc, _source_file desc, _source_line desc
    ) = 1
),

final as (
    select
        deduplicated.source_system || ':' || webinar_id || ':' || email as registration_id,
        deduplicated.source_system,
        webinar_id,
        webinar_topic,
        deduplicated.source_system || ':' || email as attendee_record_key,
        email,
        {{ email_domain('email') }} as email_domain,
        first_name,
        last_name,
        first_name_norm,
        last_name_norm,
        coalesce(nicknames.canonical, first_name_norm) as first_name_canonical,
        company,
        company_norm,
        title,
        phone,
        {{ normalise_phone('phone', "coalesce(countries.country_code, " ~ phone_region('deduplicated.source_system') ~ ")") }}
            as phone_e164,
        country,
        countries.country_code,
        approval_status,
        registered_at,
        _source_file,
        _source_line
    from deduplicated
    left join countries on deduplicated.country_key = countries.country_key
    left join nicknames on deduplicated.first_name_norm = nicknames.nickname
)

select * from final
{%- endmacro %}

{#- One part of a Mailchimp address field split on its two-space separator (`parts`: a VARCHAR[] of
    "addr1  [addr2  ]city  state  zip  country"), read from the right so a missing addr2 does not shift the
    rest; street is addr1 and addr2 joined. NULL when the field has fewer than five parts (not this layout). -#}
{% macro mailchimp_address_part(parts, part) -%}
  {%- set from_right = {'country': 1, 'zip': 2, 'state': 3, 'city': 4} -%}
  (case when len({{ parts }}) >= 5 then
    {%- if part == 'street' %} array_to_string(list_slice({{ parts }}, 1, len({{ parts }}) - 4), ' ')
    {%- else %} {{ parts }}[len({{ parts }}) - {{ from_right[part] - 1 }}]
    {%- endif %} end)
{%- endmacro %}
