{#- Reading the submission history (history/submissions, history/checks): typed column lists
    shared by the staging views and the incremental history tables, and the list of history
    files an incremental run must add. The history is append-only: one file per submission,
    named <submission_id>.parquet, never rewritten (README, "What the intake must write"). -#}

{% macro intake_submissions_columns() -%}
    cast(submission_id as varchar)     as submission_id,
    cast(org_id as varchar)            as org_id,
    cast(dataset as varchar)           as dataset,
    cast(period as varchar)            as period,
    {{ period_to_month('cast(period as varchar)') }} as month,
    cast(status as varchar)            as status,
    cast(received_at as timestamp)     as received_at,
    cast(processed_at as timestamp)    as processed_at,
    cast(file_name as varchar)         as file_name,
    cast(size_bytes as bigint)         as size_bytes,
    cast(sha256 as varchar)            as sha256,
    cast(rows as bigint)               as row_count,
    cast(contract_version as integer)  as contract_version,
    cast(failures as integer)          as failures,
    cast(warnings as integer)          as warnings
{%- endmacro %}

{% macro intake_checks_columns() -%}
    cast(submission_id as varchar)  as submission_id,
    cast(rule as varchar)           as rule,
    cast(column_name as varchar)    as column_name,
    cast(severity as varchar)       as severity,
    cast(success as boolean)        as success,
    cast(rows_checked as bigint)    as rows_checked,
    cast(rows_failing as bigint)    as rows_failing,
    cast(examples as varchar)       as examples
{%- endmacro %}

{#- read_parquet over the history files of `folder` (submissions or checks) whose submission
    id is not yet in `relation`, plus the folder's zero-row _schema.parquet. The file names are
    listed with glob() (no file is opened to find the new ones). -#}
{% macro ewto_new_history_files(folder, relation) -%}
    {%- set root = (env_var('EWTO_HOME') ~ '/history/' ~ folder) | replace("'", "''") -%}
    {%- set files = [] -%}
    {%- if execute -%}
        {%- set sql -%}
            select g.file
            from glob('{{ root }}/*.parquet') as g
            where parse_filename(g.file, true) <> '_schema'
              and parse_filename(g.file, true) not in (select distinct submission_id from {{ relation }})
            order by 1
        {%- endset -%}
        {%- set files = run_query(sql).columns[0].values() -%}
    {%- endif -%}
    /* {{ files | length }} new history file(s) */
    read_parquet([
        '{{ root }}/_schema.parquet'
        {%- for f in files %},
        '{{ f | replace("'", "''") }}'
        {%- endfor %}
    ], union_by_name=true, hive_partitioning=false)
{%- endmacro %}
