with latest as ({{ latest_version(source('pagila_bronze', 'film_category'), ['film_id', 'category_id']) }})
select
    film_id::integer as film_id,
    category_id::integer as category_id,
    last_update
from latest
