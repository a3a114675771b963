select
    s.store_id,
    s.manager_staff_id,
    m.first_name || ' ' || m.last_name as manager_name,
    a.address,
    a.district,
    a.postal_code,
    a.phone,
    ci.city,
    co.country
from {{ ref('store') }} as s
join {{ ref('address') }} as a on a.address_id = s.address_id
join {{ ref('city') }} as ci on ci.city_id = a.city_id
join {{ ref('country') }} as co on co.country_id = ci.country_id
left join {{ ref('staff') }} as m on m.staff_id = s.manager_staff_id
