{#- Records of the same customer inside one CRM (and one object: Salesforce contacts and leads merge separately),
    with the suggested survivor and the evidence that joined each duplicate.

    Survivor rule: the record filling the most person attributes; ties go to the most recently updated, then the
    oldest created, then the smallest id. Deleted / already-merged records (IsDeleted, MasterRecordId set) are
    left out. Evidence: the direct identity edge between survivor and duplicate when there is one (its rule and
    match weight), else the rule that joined the duplicate to the cluster (`cluster:<rule>`). Whatever the evidence,
    the run's Splink model scores the pair itself (identity_pair_evidence): its match probability and the
    comparisons that agreed. Both records side by side (name, email, company, the CRM's own created / modified
    timestamps) so that an admin can review a merge without SQL (pipelines/lib/crm_fixes.py writes them). -#}
with

crosswalk as (
    select * from {{ ref('customer_crosswalk') }}
),

records as (
    select * from {{ ref('int_identity_records') }}
),

pair_evidence as (
    select
        record_key_l,
        record_key_r,
        match_probability,
        agreed_comparisons
    from {{ source('identity', 'identity_pair_evidence') }}
),

edges as (
    select
        record_key_l,
        record_key_r,
        rule,
        match_weight
    from {{ source('identity', 'identity_edges') }}
),

crm_records as (
    select
        records.record_key,
        records.source_system,
        records.source_record_id,
        case when records.source_system = 'salesforce' then records.record_type else 'contact' end as object_type,
        crosswalk.customer_id,
        crosswalk.match_rule,
        crosswalk.match_weight,
        nullif(trim(concat_ws(' ', records.first_name, records.last_name)), '') as person_name,
        records.email,
        records.company,
        records.created_at,
        records.updated_at,
        (records.email is not null)::int + (records.phone_e164 is not null)::int
        + (records.first_name is not null)::int + (records.last_name is not null)::int
        + (records.title is not null)::int + (records.company is not null)::int
        + (records.street_norm is not null)::int + (records.city_norm is not null)::int
        + (records.postal_code_norm is not null)::int + (records.country_code is not null)::int
        + (records.birth_date is not null)::int + (records.time_zone is not null)::int as completeness
    from records
    inner join crosswalk on records.record_key = crosswalk.record_key
    where
        records.source_system in ('salesforce', 'hubspot', 'zoho', 'dynamics', 'custom')
        and not records.is_deleted
),

ranked as (
    select
        *,
        row_number() over (
            partition by customer_id, source_system, object_type
            order by completeness desc, updated_at desc nulls last, created_at asc nulls last, source_record_id asc
        ) as survivor_rank,
        count(*) over (partition by customer_id, source_system, object_type) as records_in_group
    from crm_records
),

pairs as (
    select
        dup.source_system,
        dup.object_type,
        survivor.source_record_id as survivor_record_id,
        dup.source_record_id as duplicate_record_id,
        dup.customer_id,
        survivor.record_key as survivor_record_key,
        dup.record_key as duplicate_record_key,
        dup.match_rule as duplicate_match_rule,
        dup.match_weight as duplicate_match_weight,
        survivor.completeness as survivor_completeness,
        dup.completeness as duplicate_completeness,
        survivor.person_name as survivor_name,
        dup.person_name as duplicate_name,
        survivor.email as survivor_email,
        dup.email as duplicate_email,
        survivor.company as survivor_company,
        dup.company as duplicate_company,
        survivor.created_at as survivor_created_at,
        dup.created_at as duplicate_created_at,
        survivor.updated_at as survivor_updated_at,
        dup.updated_at as duplicate_updated_at
    from ranked as dup
    inner join ranked as survivor
        on
            dup.customer_id = survivor.customer_id
            and dup.source_system = survivor.source_system
            and dup.object_type = survivor.object_type
            and survivor.survivor_rank = 1
    where dup.survivor_rank > 1
),

edge_pairs as (
    -- each edge in both orientations, so the join below is two equi-joins (a hash join), not an OR of
    -- equalities (a nested-loop join over pairs x edges: 29 minutes at 1M records)
    select
        record_key_l as key_a,
        record_key_r as key_b,
        rule,
        match_weight
    from edges
    union all
    select
        record_key_r as key_a,
        record_key_l as key_b,
        rule,
        match_weight
    from edges
),

direct_edges as (
    select
        pairs.duplicate_record_key,
        edge_pairs.rule,
        edge_pairs.match_weight
    from pairs
    inner join edge_pairs
        on
            pairs.survivor_record_key = edge_pairs.key_a
            and pairs.duplicate_record_key = edge_pairs.key_b
    qualify row_number() over (
        partition by pairs.duplicate_record_key
        order by
            case when edge_pairs.rule = 'splink' then 1 else 0 end,
            edge_pairs.match_weight desc nulls last,
            edge_pairs.rule asc
    ) = 1
),

final as (
    select
        pairs.source_system,
        pairs.object_type,
        pairs.survivor_record_id,
        pairs.duplicate_record_id,
        pairs.customer_id,
        coalesce(direct_edges.rule, 'cluster:' || coalesce(pairs.duplicate_match_rule, 'unknown')) as evidence,
        coalesce(direct_edges.match_weight, pairs.duplicate_match_weight) as match_weight,
        pair_evidence.match_probability,
        pair_evidence.agreed_comparisons,
        'most_complete, then most_recent, then oldest, then smallest id' as survivor_rule,
        pairs.survivor_completeness,
        pairs.duplicate_completeness,
        pairs.survivor_name,
        pairs.duplicate_name,
        pairs.survivor_email,
        pairs.duplicate_email,
        pairs.survivor_company,
        pairs.duplicate_company,
        pairs.survivor_created_at,
        pairs.duplicate_created_at,
        pairs.survivor_updated_at,
        pairs.duplicate_updated_at
    from pairs
    left join direct_edges on pairs.duplicate_record_key = direct_edges.duplicate_record_key
    left join pair_evidence
        on
            least(pairs.survivor_record_key, pairs.duplicate_record_key) = pair_evidence.record_key_l
            and greatest(pairs.survivor_record_key, pairs.duplicate_record_key) = pair_evidence.record_key_r
)

select * from final
