-- One row per submitted file and validation rule (and column), with the submission context.
select
    cast(c.submission_id || ':' || c.rule || ':' || coalesce(c.column_name, '') as varchar) as check_key,
    cast(c.submission_id as varchar) as submission_id,
    cast(s.org_id as varchar) as org_id,
    cast(s.dataset as varchar) as dataset,
    cast(s.period as varchar) as period,
    cast(s.status as varchar) as submission_status,
    cast(s.received_at as timestamp) as received_at,
    cast(c.rule as varchar) as rule,
    cast(c.column_name as varchar) as column_name,
    cast(c.severity as varchar) as severity,
    cast(c.success as boolean) as success,
    cast(c.rows_checked as bigint) as rows_checked,
    cast(c.rows_failing as bigint) as rows_failing,
    cast(case when c.rows_checked > 0 then 1.0 * c.rows_failing / c.rows_checked end as double) as failing_share,
    cast(c.examples as varchar) as examples
from {{ ref('int_submission_checks') }} as c
-- inner join: check rows of a submission whose history row was never written (a crash
-- before the commit point) are not part of any submission and are left out
inner join {{ ref('fct_submissions') }} as s on s.submission_id = c.submission_id
