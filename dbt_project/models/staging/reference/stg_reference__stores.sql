select {{ blank_to_null('store_id') }} as store_id, store_name, city, region, opened_at
from {{ optional_source('reference', 'stores') }} as raw_records
