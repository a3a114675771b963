with latest as ({{ latest_version(source('pagila_bronze', 'country'), ['country_id']) }})
select
    country_id::integer as country_id,
    trim(country) as country,
    last_update
from latest
