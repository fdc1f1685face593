{#- Attendance sessions of every webinar platform (raw_webinar_attendance: Zoom and Teams reports); one row per
    join/leave session, the same session in repeated exports counted once. The person's name is read from the one
    name field the reports give: Zoom writes "User Name (Original Name)" when the attendee renamed themselves. -#}
{#- display names that name a phone line, a room or a device, not a person -#}
{%- set not_a_person = "'^(call-in user|dial-in user|phone user|conference room|meeting room|room\s|zoom user|"
    ~ "zoom room|teams room|iphone|ipad|android|galaxy|pixel|macbook|guest\s*\d*$|unknown)'" %}
with

raw_attendance as (
    select * from {{ source('raw', 'raw_webinar_attendance') }}
    -- the raw contract (docs/architecture.md) may lack first_name / last_name / phone, which ingest writes when the
    -- report has them: they are NULL then
    union all by name
    {{ optional_columns({'first_name': 'varchar', 'last_name': 'varchar', 'phone': 'varchar'}) }}
),

countries as ({{ country_lookup_cte() }}
),

cleaned as (
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
    from raw_attendance
),

sessions as (
    select *
    from cleaned
    qualify row_number() over (
        partition by source_system, webinar_id, coalesce(email, name, ''), joined_at, left_at
        order by _ingested_at, _source_file, _source_line
    ) = 1
),

-- the person's name: the original (registered) name when Zoom gives "User Name (Original Name)", else the display
-- name unless it names a phone line, a room or a device ("Call-in User_1", "Conference Room B", "iPhone");
-- first / last names the report gives separately win over the split of the full name (split_names)
named_sessions as (
    select
        *,
        {{ clean_person_name("coalesce(original_name, case when not regexp_matches(lower(display_name), "
            ~ not_a_person ~ ") then display_name end)") }} as person_name
    from sessions
),

split_names as (
    select
        *,
        coalesce(given_first_name, {{ first_name_part('person_name') }}) as first_name,
        case
            when given_first_name is not null or given_last_name is not null then given_last_name
            else {{ last_name_part('person_name') }}
        end as last_name
    from named_sessions
),

final as (
    select
        md5(concat_ws(
            '|', split_names.source_system, split_names.webinar_id, coalesce(split_names.email, split_names.name, ''),
            coalesce(cast(split_names.joined_at as varchar), ''), coalesce(cast(split_names.left_at as varchar), '')
        )) as attendance_id,
        split_names.source_system,
        split_names.webinar_id,
        split_names.webinar_topic,
        split_names.webinar_start_at,
        split_names.role,
        case
            when split_names.email is not null then split_names.source_system || ':' || split_names.email
        end as attendee_record_key,
        split_names.email,
        {{ email_domain('split_names.email') }} as email_domain,
        split_names.name,
        split_names.display_name,
        split_names.original_name,
        split_names.first_name,
        split_names.last_name,
        {{ normalise_name('split_names.first_name') }} as first_name_norm,
        {{ normalise_name('split_names.last_name') }} as last_name_norm,
        split_names.phone,
        -- a national number is read in the attendee's country, else in its platform's default region
        {{ normalise_phone('split_names.phone', "coalesce(countries.country_code, "
            ~ phone_region('split_names.source_system') ~ ")") }} as phone_e164,
        split_names.is_guest,
        split_names.country,
        countries.country_code,
        coalesce(
            split_names.duration_minutes, date_diff('second', split_names.joined_at, split_names.left_at) / 60.0
        ) as duration_minutes,
        split_names.joined_at,
        split_names.left_at,
        split_names._source_file,
        split_names._source_line
    from split_names
    left join countries on split_names.country_key = countries.country_key
)

select * from final
