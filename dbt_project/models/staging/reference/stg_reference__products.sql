select
    {{ blank_to_null('product_sku') }} as product_sku,
    product_name,
    category as product_category,
    product_line,
    launched_at
from {{ optional_source('reference', 'products') }} as raw_records
