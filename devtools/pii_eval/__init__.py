"""A labelled PII set for the text masker, written blind to the masker (see README.md).

``dev.csv`` is for tuning; ``eval.csv`` is held out and read once per round. ``judge.py`` says
whether a masking result catches a row's PII (or leaves a near-miss alone).
"""
