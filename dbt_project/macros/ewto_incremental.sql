{#- Pre-hook of fct_takedowns (incremental runs only): delete the rows of submissions that are
    no longer the current accepted submission of their (org, dataset, period). -#}
{% macro ewto_prune_non_current(relation, dataset) -%}
    {%- if is_incremental() -%}
        delete from {{ relation }}
        where submission_id not in (
            select submission_id
            from {{ ref('int_submissions_current') }}
            where dataset = '{{ dataset }}'
        )
    {%- else -%}
        select 1 /* full build: nothing to prune */
    {%- endif -%}
{%- endmacro %}
