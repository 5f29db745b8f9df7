-- Reporting discipline (domain.md section 4), one row per expected takedowns export of a
-- member for a month before the as_of month, evaluated as of as_of (env EWTO_AS_OF_DATE, else var as_of) at 23:59:59 UTC:
-- only submissions received by then count.
--   due_at = day var('due_day') of m+1 at var('due_time_utc') (UTC)
--   on_time  first accepted submission received at or before due_at
--   late     first accepted submission received after due_at
--   rejected submissions received so far, none accepted (rejected or duplicate)
--   missing  nothing received and due_at has passed
--   pending  nothing received, not yet due
-- Monitoring organisations have no monthly obligation and get no rows.
with expected as (
    select org_id, dataset, month
    from {{ ref('int_expected_submissions') }}
    where month < {{ as_of_month() }}
),

received as (
    select org_id, dataset, month, status, received_at
    from {{ ref('fct_submissions') }}
    where received_at <= {{ as_of_ts() }}
),

summarised as (
    select
        e.org_id,
        e.dataset,
        e.month,
        cast({{ add_months('e.month', 1) }} + cast({{ var('due_day') }} - 1 as integer) + time '{{ var("due_time_utc") }}' as timestamp) as due_at,
        min(r.received_at) filter (where r.status = 'accepted') as first_accepted_at,
        count(r.received_at) as submissions_received
    from expected as e
    left join received as r
        on r.org_id = e.org_id and r.dataset = e.dataset and r.month = e.month
    group by all
)

select
    cast(org_id as varchar) as org_id,
    cast(dataset as varchar) as dataset,
    cast(month as date) as month,
    cast(case
        when first_accepted_at is not null and first_accepted_at <= due_at then 'on_time'
        when first_accepted_at is not null then 'late'
        when submissions_received > 0 then 'rejected'
        when {{ as_of_ts() }} > due_at then 'missing'
        else 'pending'
    end as varchar) as status,
    cast(due_at as timestamp) as due_at,
    cast(first_accepted_at as timestamp) as first_accepted_at
from summarised
