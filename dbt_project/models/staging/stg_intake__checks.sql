-- Validation results, typed: one row per submission and rule (and column). The typed column
-- list is shared with int_submission_checks (macro intake_checks_columns), the incremental
-- table the models read.
select
    {{ intake_checks_columns() }}
from {{ source('intake', 'checks') }}
