with latest as ({{ latest_version(source('pagila_bronze', 'actor'), ['actor_id']) }})
select
    actor_id::integer as actor_id,
    trim(first_name) as first_name,
    trim(last_name) as last_name,
    last_update
from latest
