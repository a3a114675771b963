-- every rental's customer has a current version in dim_customer
select f.rental_id
from {{ ref('fact_rental') }} as f
left join {{ ref('dim_customer') }} as c on c.customer_id = f.customer_id and c.is_current
where c.customer_id is null
