-- Every reference of fct_takedowns exists: submission_id in fct_submissions, member_id in
-- dim_member, platform_id in dim_platform, commodity in dim_commodity. This is what four
-- `relationships` tests checked, in one pass: the distinct key combinations of the table's
-- 12.7 M rows (at scale 1) are a few thousand, and one node costs dbt's per-node overhead
-- once (the four tests took 1.5-1.8 s in a row on the incremental build's critical path,
-- this one about 0.5 s). Returns the missing (column, value) pairs; null keys cannot occur
-- (not-null constraints) and would not count, as in `relationships`.
{%- set references = [
    ('submission_id', ref('fct_submissions'), 'submission_id'),
    ('member_id', ref('dim_member'), 'member_id'),
    ('platform_id', ref('dim_platform'), 'platform_id'),
    ('commodity', ref('dim_commodity'), 'commodity'),
] %}
with keys as materialized (
    select distinct {% for column, _, _ in references %}{{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
    from {{ ref('fct_takedowns') }}
)
{% for column, parent, field in references %}
select '{{ column }}' as column_name, k.{{ column }} as value
from (select distinct {{ column }} from keys where {{ column }} is not null) as k
where not exists (select 1 from {{ parent }} as p where p.{{ field }} = k.{{ column }})
{% if not loop.last %}
union all
{% endif %}
{%- endfor %}
