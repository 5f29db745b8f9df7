-- The commodities of export contract v1 (seed).
select
    cast(commodity as varchar) as commodity,
    cast(label as varchar) as label,
    cast(taxon_group as varchar) as taxon_group,
    cast(default_cites_appendix as varchar) as default_cites_appendix
from {{ ref('commodities') }}
