-- Platforms of the registry, typed; member_id is null for a non-member platform.
select
    cast(platform_id as varchar)  as platform_id,
    cast(name as varchar)         as platform_name,
    cast(member_id as varchar)    as member_id,
    cast(synthetic as boolean)    as synthetic
from {{ source('registry', 'platforms') }}
