{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
-- The submission history (stg_intake__submissions) as a table, incremental by file: the
-- history is append-only, one file per submission, so an incremental run appends the files
-- whose submission id is not in the table yet, found by listing the folder, and does not read
-- the other files again. A full build (or --full-refresh) reads them all.
{%- if is_incremental() %}
select {{ intake_submissions_columns() }}
from {{ ewto_new_history_files('submissions', this) }}
{%- else %}
select * from {{ ref('stg_intake__submissions') }}
{%- endif %}
