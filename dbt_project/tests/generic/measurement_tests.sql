{#- campaign_outcomes: conversions never exceed their group; engagement never exceeds what was sent. -#}
{% test measurement_conversions_within_n(model) %}
select campaign_period_id
from {{ model }}
where
    treated_conversions > treated_n
    or control_conversions > control_n
    or control_global_n > control_n
    or control_global_conversions > control_conversions
    or delivered > sent
    or opened > sent
    or clicked > sent
{% endtest %}
