{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ ewto_prune_non_current(this, 'monitoring') }}"
) }}
-- Monitoring rows of the current accepted submissions only. Incremental by submission, like
-- fct_takedowns: the pre-hook deletes rows of submissions that are no longer current, then
-- the rows of newly current submissions are appended, read from their lake files only. A full
-- build (or --full-refresh) reads every lake file. Every monitoring model downstream
-- (fct_monitoring, int_platform_monthly, int_months) reads this table, not the lake.
-- depends_on: {{ ref('int_submissions_current') }}
{%- set new_submissions = ewto_new_current_submissions('monitoring', this) if is_incremental() else [] %}
{%- if is_incremental() %}
-- {{ new_submissions | length }} new current submission(s)
select {{ lake_monitoring_columns() }}
from {{ ewto_lake_files('monitoring', new_submissions) }}
where submission_id in {{ ewto_submission_id_list(new_submissions) }}
{%- else %}
{{ ewto_current_lake_rows('monitoring') }}
{%- endif %}
