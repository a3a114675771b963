with latest as ({{ latest_version(source('pagila_bronze', 'category'), ['category_id']) }})
select
    category_id::integer as category_id,
    trim(name) as name,
    last_update
from latest
