{#- Suppression list entries of every email platform (raw_email_suppressions: SendGrid lists, Mailchimp lists when an
    export gives them); one row per (source_system, list, email, group), the latest entry winning. -#}
with

raw_suppressions as (
    select * from {{ source('raw', 'raw_email_suppressions') }}
),

cleaned as (
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
    from raw_suppressions
),

latest_entry as (
    select *
    from cleaned
    where email is not null
    qualify row_number() over (
        partition by source_system, suppression_list, email, coalesce(asm_group_id, -1)
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
    from latest_entry
)

select * from final
