"""Evaluation of the NLP functions on a labelled set written for this project.

``feedback_eval.csv`` is evaluation data only: it is never read by training code, and no
keyword or lexicon entry was copied from it. ``python -m devtools.nlp_eval`` prints the report.
"""
