{#- Reading the lake: typed column lists shared by the staging views and the incremental
    facts, and the list of lake files of the submissions an incremental run must add. -#}

{#- Typed columns of a landed takedowns row (staging contract). -#}
{% macro lake_takedowns_columns() -%}
    cast(submission_id as varchar)            as submission_id,
    cast(org_id as varchar)                   as org_id,
    cast(period as varchar)                   as period,
    {{ period_to_month('cast(period as varchar)') }} as month,
    cast(source_row as bigint)                as source_row,
    cast(record_id as varchar)                as record_id,
    cast(content_type as varchar)             as content_type,
    cast(detected_at as timestamp)            as detected_at,
    cast(actioned_at as timestamp)            as actioned_at,
    cast(detection_source as varchar)         as detection_source,
    cast(detection_stage as varchar)          as detection_stage,
    cast(action_type as varchar)              as action_type,
    cast(commodity as varchar)                as commodity,
    cast(seller_id as varchar)                as seller_id,
    cast(platform_id as varchar)              as platform_id,
    cast(species_scientific_name as varchar)  as species_scientific_name,
    cast(cites_appendix as varchar)           as cites_appendix,
    cast(seller_country as varchar)           as seller_country,
    cast(price as double)                     as price,
    cast(currency as varchar)                 as currency,
    cast(coalesce(appealed, false) as boolean) as appealed,
    cast(coalesce(restored, false) as boolean) as restored,
    cast(referral_id as varchar)              as referral_id
{%- endmacro %}

{#- Typed columns of a landed monitoring row (staging contract); a row counts for the month
    of its window_start. -#}
{% macro lake_monitoring_columns() -%}
    cast(submission_id as varchar)        as submission_id,
    cast(org_id as varchar)               as org_id,
    cast(period as varchar)               as period,
    {{ period_to_month('cast(period as varchar)') }} as period_month,
    cast(source_row as bigint)            as source_row,
    cast(survey_id as varchar)            as survey_id,
    cast(platform_id as varchar)          as platform_id,
    cast(window_start as date)            as window_start,
    cast(window_end as date)              as window_end,
    cast(date_trunc('month', cast(window_start as date)) as date) as month,
    cast(keyword_id as varchar)           as keyword_id,
    cast(language as varchar)             as language,
    cast(queries_run as bigint)           as queries_run,
    cast(new_adverts_found as bigint)     as new_adverts_found,
    cast(adverts_referred as bigint)      as adverts_referred,
    cast(commodity as varchar)            as commodity
{%- endmacro %}

{#- The current accepted submissions of `dataset` whose rows are not yet in `relation` (an
    incremental fact), as a list of rows (submission_id, org_id, period). Zero-row
    submissions are left out (nothing to add). Runs at execution time only. -#}
{% macro ewto_new_current_submissions(dataset, relation) -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set sql -%}
        select c.submission_id, c.org_id, c.period
        from {{ ref('int_submissions_current') }} as c
        where c.dataset = '{{ dataset }}'
          and coalesce(c.row_count, 1) > 0
          and not exists (select 1 from {{ relation }} as f where f.submission_id = c.submission_id)
        order by c.submission_id
    {%- endset -%}
    {{ return(run_query(sql).rows) }}
{%- endmacro %}

{#- read_parquet over exactly the lake files of the given submissions (rows of
    ewto_new_current_submissions) plus the dataset's zero-row _schema.parquet, so the list is
    never empty and the schema is the lake's. The layout is the intake's contract
    (README: lake/<dataset>/org_id=<org>/period=<YYYY-MM>/<submission_id>.parquet); reading
    these files instead of the whole glob is what keeps an incremental run proportional to
    the new data. -#}
{% macro ewto_lake_files(dataset, submissions) -%}
    {%- set root = env_var('EWTO_HOME') ~ '/lake/' ~ dataset -%}
    read_parquet([
        '{{ root | replace("'", "''") }}/_schema.parquet'
        {%- for s in submissions %},
        '{{ (root ~ "/org_id=" ~ s[1] ~ "/period=" ~ s[2] ~ "/" ~ s[0] ~ ".parquet") | replace("'", "''") }}'
        {%- endfor %}
    ], union_by_name=true, hive_partitioning=false)
{%- endmacro %}

{#- SQL tuple of the submission ids of the given rows ('' when empty, which matches none). -#}
{% macro ewto_submission_id_list(submissions) -%}
    ({%- for s in submissions -%}'{{ s[0] | replace("'", "''") }}'{%- if not loop.last %}, {% endif -%}{%- else -%}''{%- endfor -%})
{%- endmacro %}

{#- Every lake row of the dataset's current accepted submissions: the full-build input of
    fct_takedowns and int_monitoring_current (an incremental run reads only the new files,
    ewto_lake_files). Read in the model itself, not through a model of its own, so that the
    incremental build's longest node waits for int_submissions_current and its tests alone. -#}
{% macro ewto_current_lake_rows(dataset) -%}
    select l.*
    from {{ ref('stg_lake__' ~ dataset) }} as l
    inner join {{ ref('int_submissions_current') }} as s
        on  s.submission_id = l.submission_id
        and s.dataset = '{{ dataset }}'
        and s.org_id = l.org_id
        and s.period = l.period
{%- endmacro %}
