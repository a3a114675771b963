with latest as ({{ latest_version(source('pagila_bronze', 'city'), ['city_id']) }})
select
    city_id::integer as city_id,
    trim(city) as city,
    country_id::integer as country_id,
    last_update
from latest
