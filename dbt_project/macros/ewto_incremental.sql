{#- Pre-hook of an incremental fact by submission (int_monitoring_current, fct_monitoring;
    incremental runs only): delete the rows of submissions that are no longer the current
    accepted submission of their (org, dataset, period). -#}
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

{#- Pre-hook of fct_monitoring (incremental runs only): the membership columns of the rows it
    already holds follow int_platform_months, which changes with the registry (a leave date
    set or corrected, a platform moved to another member, a member removed). For every
    (platform, month) the table holds, compare the stored member_id / is_member_platform with
    what int_platform_months says now (no row there: a non-member platform, as the model's
    left join says) and update the rows that differ; a month with no registry change updates
    nothing. Cheaper than rebuilding every row: the comparison reads two columns. -#}
{% macro ewto_refresh_platform_membership(relation) -%}
    {%- if is_incremental() -%}
        update {{ relation }} as f
        set member_id = n.member_id, is_member_platform = n.is_member_platform
        from (
            select distinct
                k.platform_id,
                k.month,
                cast(p.member_id as varchar) as member_id,
                cast(coalesce(p.is_member_platform, false) as boolean) as is_member_platform
            from (select distinct platform_id, month, member_id, is_member_platform from {{ relation }}) as k
            left join {{ ref('int_platform_months') }} as p
                on p.platform_id = k.platform_id and p.month = k.month
            where k.member_id is distinct from p.member_id
               or k.is_member_platform is distinct from coalesce(p.is_member_platform, false)
        ) as n
        where f.platform_id = n.platform_id and f.month = n.month
    {%- else -%}
        select 1 /* full build: every row is derived from int_platform_months */
    {%- endif -%}
{%- endmacro %}
