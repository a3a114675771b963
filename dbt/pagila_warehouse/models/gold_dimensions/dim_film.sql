with categories as (
    select fc.film_id, min(c.name) as category
    from {{ ref('film_category') }} as fc
    join {{ ref('category') }} as c on c.category_id = fc.category_id
    group by fc.film_id
)
select
    f.film_id,
    f.title,
    f.description,
    f.release_year,
    l.name as language,
    ol.name as original_language,
    cat.category,
    f.rental_duration,
    f.rental_rate,
    f.length,
    f.replacement_cost,
    f.rating,
    f.special_features
from {{ ref('film') }} as f
join {{ ref('language') }} as l on l.language_id = f.language_id
left join {{ ref('language') }} as ol on ol.language_id = f.original_language_id
left join categories as cat on cat.film_id = f.film_id
