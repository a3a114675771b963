with latest as ({{ latest_version(source('pagila_bronze', 'film'), ['film_id']) }})
select
    film_id::integer as film_id,
    trim(title) as title,
    {{ clean_text('description') }} as description,
    release_year::integer as release_year,
    language_id::integer as language_id,
    original_language_id::integer as original_language_id,
    rental_duration::smallint as rental_duration,
    rental_rate::numeric(4, 2) as rental_rate,
    length::smallint as length,
    replacement_cost::numeric(5, 2) as replacement_cost,
    rating::text as rating,
    nullif(array_to_string(special_features, ','), '') as special_features,
    last_update
from latest
