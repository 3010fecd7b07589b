"""The blind-labelled real-text tag set (issue 17): see ``README.md`` and ``GUIDE.md`` here."""
