{{ config(materialized='view') }}
-- Takedown rows of the current accepted submissions only (one row per actioned item).
select t.*
from {{ ref('stg_lake__takedowns') }} as t
inner join {{ ref('int_submissions_current') }} as s
    on  s.submission_id = t.submission_id
    and s.dataset = 'takedowns'
    and s.org_id = t.org_id
    and s.period = t.period
