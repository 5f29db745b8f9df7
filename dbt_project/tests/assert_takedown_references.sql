-- Every reference of fct_takedowns exists: submission_id in fct_submissions, member_id in
-- dim_member, platform_id in dim_platform, commodity in dim_commodity. This is what four
-- `relationships` tests checked, in one pass: the distinct key combinations of the table's
-- 12.7 M rows (at scale 1) are a few thousand, and one node costs dbt's per-node overhead
-- once (the four tests took 1.5-1.8 s in a row on the incremental build's critical path,
-- this one about 0.5 s). Returns the missing (column, value) pairs; null keys cannot occur
-- (not-null constraints) and would not count, as in `relationships`.
with keys as materialized (
    select distinct submission_id, member_id, platform_id, commodity
    from {{ ref('fct_takedowns') }}
)

select 'submission_id' as column_name, k.submission_id as value
from (select distinct submission_id from keys where submission_id is not null) as k
where not exists (select 1 from {{ ref('fct_submissions') }} as p where p.submission_id = k.submission_id)

union all

select 'member_id', k.member_id
from (select distinct member_id from keys where member_id is not null) as k
where not exists (select 1 from {{ ref('dim_member') }} as p where p.member_id = k.member_id)

union all

select 'platform_id', k.platform_id
from (select distinct platform_id from keys where platform_id is not null) as k
where not exists (select 1 from {{ ref('dim_platform') }} as p where p.platform_id = k.platform_id)

union all

select 'commodity', k.commodity
from (select distinct commodity from keys where commodity is not null) as k
where not exists (select 1 from {{ ref('dim_commodity') }} as p where p.commodity = k.commodity)
