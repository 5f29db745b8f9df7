-- Reconciliation of takedowns across layers: for every member and month,
--   items_actioned (kpi_member_monthly)
--   = rows of fct_takedowns
--   = `rows` recorded in the submission history for the current accepted submission.
-- fct_takedowns holds exactly the rows read from the lake files of the current accepted
-- submissions (appended incrementally, one file per submission), so the last equality is
-- the check that the lake holds what the intake recorded, without scanning the whole lake in
-- every build. Returns the member-months where any of the three disagree.
with kpi as (
    select member_id, month, items_actioned from {{ ref('kpi_member_monthly') }}
    where items_actioned is not null
),
fct as (
    select member_id, month, count(*) as n, count(distinct submission_id) as submissions
    from {{ ref('fct_takedowns') }}
    group by all
),
history as (
    select org_id as member_id, month, submission_id, row_count as n
    from {{ ref('int_submissions_current') }}
    where dataset = 'takedowns'
),
fct_submission as (
    select distinct member_id, month, submission_id from {{ ref('fct_takedowns') }}
),
keys as (
    select member_id, month from kpi
    union select member_id, month from fct
    union select member_id, month from history
)
select
    k.member_id,
    k.month,
    kpi.items_actioned,
    coalesce(fct.n, 0) as fct_rows,
    history.n as history_rows
from keys as k
left join kpi on kpi.member_id = k.member_id and kpi.month = k.month
left join fct on fct.member_id = k.member_id and fct.month = k.month
left join history on history.member_id = k.member_id and history.month = k.month
where kpi.items_actioned is distinct from coalesce(fct.n, 0)
   or history.n is distinct from coalesce(fct.n, 0)
   or coalesce(fct.submissions, 0) > 1
   or exists (
        select 1 from fct_submission as f
        where f.member_id = k.member_id and f.month = k.month
          and f.submission_id is distinct from history.submission_id
   )
