with latest as ({{ latest_version(source('pagila_bronze', 'film_actor'), ['actor_id', 'film_id']) }})
select
    actor_id::integer as actor_id,
    film_id::integer as film_id,
    last_update
from latest
