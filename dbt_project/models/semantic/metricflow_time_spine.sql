-- Day-grain time spine of the MetricFlow semantic layer (_semantic.yml): every day from
-- 2010-01-01 to 2030-12-31, before the earliest baseline and after the last simulated month.
select cast(d.range as date) as date_day
from range(timestamp '2010-01-01', timestamp '2031-01-01', interval 1 day) as d
