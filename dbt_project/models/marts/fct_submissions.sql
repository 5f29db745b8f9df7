-- The submission history: every submission, accepted, rejected or duplicate, with a flag
-- for the current accepted submission of its (org, dataset, period).
select
    cast(s.submission_id as varchar) as submission_id,
    cast(s.org_id as varchar) as org_id,
    cast(s.dataset as varchar) as dataset,
    cast(s.period as varchar) as period,
    cast(s.month as date) as month,
    cast(s.status as varchar) as status,
    cast(s.received_at as timestamp) as received_at,
    cast(s.processed_at as timestamp) as processed_at,
    cast(s.file_name as varchar) as file_name,
    cast(s.size_bytes as bigint) as size_bytes,
    cast(s.sha256 as varchar) as sha256,
    cast(s.row_count as bigint) as row_count,
    cast(s.contract_version as integer) as contract_version,
    cast(s.failures as integer) as failures,
    cast(s.warnings as integer) as warnings,
    cast(c.submission_id is not null as boolean) as is_current
from {{ ref('int_submission_history') }} as s
left join {{ ref('int_submissions_current') }} as c on c.submission_id = s.submission_id
