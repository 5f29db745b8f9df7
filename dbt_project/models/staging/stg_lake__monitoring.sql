-- Landed monitoring rows, typed. A monitoring row belongs to the month of its window_start.
-- The typed column list is shared with the incremental run of fct_monitoring (macro
-- lake_monitoring_columns).
select
    {{ lake_monitoring_columns() }}
from {{ source('lake', 'monitoring') }}
