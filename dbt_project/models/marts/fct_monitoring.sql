{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=[
        "{{ ewto_prune_non_current(this, 'monitoring') }}",
        "{{ ewto_refresh_platform_membership(this) }}",
    ]
) }}
-- One row per monitoring row (platform x keyword x survey window) of the current accepted
-- monitoring submissions; month = month of window_start. member_id / is_member_platform: the
-- platform's membership in that month (int_platform_months: who was a member then).
-- Incremental by submission, like int_monitoring_current (rebuilding every row in every run
-- was the slowest node of an incremental build): the pre-hooks (1) delete the rows of
-- submissions that are no longer current and (2) re-derive member_id / is_member_platform of
-- the rows already held wherever int_platform_months now says otherwise (a leave date set, a
-- platform moved, a member removed: macro ewto_refresh_platform_membership); the run then
-- appends the rows of the current submissions not yet in the table. A full build (or
-- --full-refresh) builds every row.
-- depends_on: {{ ref('int_submissions_current') }}
select
    cast(m.submission_id || ':' || cast(m.source_row as varchar) as varchar) as monitoring_key,
    cast(m.submission_id as varchar) as submission_id,
    cast(m.org_id as varchar) as org_id,
    cast(m.period as varchar) as period,
    cast(m.month as date) as month,
    cast(m.source_row as bigint) as source_row,
    cast(m.survey_id as varchar) as survey_id,
    cast(m.platform_id as varchar) as platform_id,
    cast(p.member_id as varchar) as member_id,
    cast(coalesce(p.is_member_platform, false) as boolean) as is_member_platform,
    cast(m.window_start as date) as window_start,
    cast(m.window_end as date) as window_end,
    cast(m.keyword_id as varchar) as keyword_id,
    cast(m.language as varchar) as language,
    cast(m.queries_run as bigint) as queries_run,
    cast(m.new_adverts_found as bigint) as new_adverts_found,
    cast(m.adverts_referred as bigint) as adverts_referred,
    cast(m.commodity as varchar) as commodity
from {{ ref('int_monitoring_current') }} as m
left join {{ ref('int_platform_months') }} as p on p.platform_id = m.platform_id and p.month = m.month
{%- if is_incremental() %}
where m.submission_id not in (select distinct f.submission_id from {{ this }} as f)
{%- endif %}
