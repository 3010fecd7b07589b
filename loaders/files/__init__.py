"""File mode: reading the landing folder (``readers``) and turning its files into raw, quarantine
and load-log rows (``extract``)."""
