select
    st.staff_id,
    st.first_name,
    st.last_name,
    st.email,
    st.store_id,
    st.active,
    st.username,
    ci.city,
    co.country
from {{ ref('staff') }} as st
join {{ ref('address') }} as a on a.address_id = st.address_id
join {{ ref('city') }} as ci on ci.city_id = a.city_id
join {{ ref('country') }} as co on co.country_id = ci.country_id
