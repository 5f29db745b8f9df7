-- The current accepted submission of each (org_id, dataset, period): the latest accepted one
-- by received_at, then processed_at, then submission_id. Only lake files of these submission
-- ids count; rows of replaced submissions and orphans of a crashed write are ignored.
with ranked as (
    select
        submission_id,
        org_id,
        dataset,
        period,
        month,
        received_at,
        processed_at,
        row_count,
        row_number() over (
            partition by org_id, dataset, period
            order by received_at desc, processed_at desc nulls last, submission_id desc
        ) as recency_rank
    from {{ ref('int_submission_history') }}
    where status = 'accepted'
)

select
    submission_id,
    org_id,
    dataset,
    period,
    month,
    received_at,
    processed_at,
    row_count
from ranked
where recency_rank = 1
