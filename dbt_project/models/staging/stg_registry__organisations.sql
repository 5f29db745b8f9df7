-- Organisations of the registry (members and monitoring NGOs), typed.
select
    cast(org_id as varchar)     as org_id,
    cast(name as varchar)       as org_name,
    cast(kind as varchar)       as kind,
    cast(coalesce(founding, false) as boolean) as founding,
    cast(synthetic as boolean)  as synthetic,
    cast(joined as date)        as joined,
    cast(left_on as date)       as left_on,
    cast(timezone as varchar)   as timezone
from {{ source('registry', 'organisations') }}
