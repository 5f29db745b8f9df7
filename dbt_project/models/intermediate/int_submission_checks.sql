{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
-- Validation results of every submission (stg_intake__checks) as a table, incremental by
-- file like int_submission_history: history/checks is append-only, one file per submission.
{%- if is_incremental() %}
select {{ intake_checks_columns() }}
from {{ ewto_new_history_files('checks', this) }}
{%- else %}
select * from {{ ref('stg_intake__checks') }}
{%- endif %}
