with latest as ({{ latest_version(source('pagila_bronze', 'language'), ['language_id']) }})
select
    language_id::integer as language_id,
    trim(name)::text as name,
    last_update
from latest
