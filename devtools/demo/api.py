"""Demo data for the VoC warehouse: `generate(landing_dir, rows, seed, end_date, days)`.

Writes landing files for surveys, tickets, reviews, social, members and reference in the formats of
the source contract (mess included) and the ground truth under `<landing>/_truth/`.
`add_increment(landing_dir, share, seed)` then writes a later day of new and changed records as new
files (for incremental runs and the pipeline benchmark). The implementation lives in the
`devtools.demo` package.
"""

from devtools.demo.generator import generate
from devtools.demo.increment import add_increment
from devtools.demo.phrases import ALL_TAGS, PHRASE_BANK

__all__ = ["generate", "add_increment", "ALL_TAGS", "PHRASE_BANK"]
