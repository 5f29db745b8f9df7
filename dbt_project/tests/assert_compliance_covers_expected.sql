-- kpi_submission_compliance has exactly one row per expected takedowns export of a month
-- before the as_of month, and the status agrees with the dates.
with expected as (
    select org_id, dataset, month
    from {{ ref('int_expected_submissions') }}
    where month < {{ as_of_month() }}
),
compliance as (
    select * from {{ ref('kpi_submission_compliance') }}
)
select coalesce(e.org_id, c.org_id) as org_id, coalesce(e.month, c.month) as month, 'row mismatch' as problem
from expected as e
full outer join compliance as c
    on c.org_id = e.org_id and c.dataset = e.dataset and c.month = e.month
where e.org_id is null or c.org_id is null
union all
select org_id, month, 'status inconsistent with dates'
from compliance
where (status = 'on_time' and not first_accepted_at <= due_at)
   or (status = 'late' and not first_accepted_at > due_at)
   or (status = 'missing' and not {{ as_of_ts() }} > due_at)
   or (status = 'pending' and not {{ as_of_ts() }} <= due_at)
