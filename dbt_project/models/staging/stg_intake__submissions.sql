-- The submission history, typed: every submission, accepted, rejected or duplicate. The
-- typed column list is shared with int_submission_history (macro intake_submissions_columns),
-- the incremental table the models read.
select
    {{ intake_submissions_columns() }}
from {{ source('intake', 'submissions') }}
