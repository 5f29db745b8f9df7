-- Landed takedown rows, typed. All files of the lake (current or not): the filter to the
-- current accepted submission happens in fct_takedowns (macro ewto_current_lake_rows). The typed column list is
-- shared with the incremental run of fct_takedowns (macro lake_takedowns_columns).
select
    {{ lake_takedowns_columns() }}
from {{ source('lake', 'takedowns') }}
