"""Demo data generator: realistic, messy Chinese customer feedback for every source, plus ground truth.

See `devtools.demo.generator.generate` (re-exported by `devtools.demo.api`).
"""
