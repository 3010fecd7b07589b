"""Demo data generator: realistic, messy Chinese customer feedback for every source, plus ground truth.

See `loaders.demo.generator.generate` (re-exported by `loaders.demo_data`).
"""
