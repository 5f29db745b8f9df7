-- Spine of the effort KPIs: every member x month where the member is expected to report
-- (active, up to the as_of month) or has a current accepted takedowns submission.
with expected as (
    select org_id as member_id, month
    from {{ ref('int_expected_submissions') }}
    where dataset = 'takedowns'
),

submitted as (
    select s.org_id as member_id, s.month, s.submission_id, s.row_count
    from {{ ref('int_submissions_current') }} as s
    inner join {{ ref('int_member_spans') }} as m on m.member_id = s.org_id
    where s.dataset = 'takedowns'
)

select
    coalesce(e.member_id, s.member_id) as member_id,
    coalesce(e.month, s.month) as month,
    e.member_id is not null as is_expected,
    s.submission_id is not null as has_accepted_submission,
    s.submission_id as current_submission_id,
    s.row_count as submitted_rows
from expected as e
full outer join submitted as s
    on s.member_id = e.member_id and s.month = e.month
