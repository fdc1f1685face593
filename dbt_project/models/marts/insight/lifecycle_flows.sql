-- Flow summary for charts: moves between stages per calendar month (period 'YYYY-MM').
select
    strftime(transitioned_at, '%Y-%m') as period,
    from_stage,
    to_stage,
    count(*) as customer_count
from {{ ref('lifecycle_transitions') }}
group by 1, 2, 3
