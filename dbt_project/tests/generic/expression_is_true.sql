{#- Every row (optionally: every row matching `where_clause`) satisfies the boolean expression;
    a null result counts as a failure unless the expression handles nulls itself. -#}
{% test expression_is_true(model, expression, where_clause=none) %}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{%- if where_clause %}
  and ({{ where_clause }})
{%- endif %}
{% endtest %}
