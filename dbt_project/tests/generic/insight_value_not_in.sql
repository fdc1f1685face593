{#- Fails for rows whose column takes one of the given values (e.g. a fallback that must never be reached). -#}
{% test insight_value_not_in(model, column_name, values) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} in ({% for v in values %}'{{ v }}'{{ ", " if not loop.last }}{% endfor %})
{% endtest %}
