"""The end-to-end benchmark (``bench/end_to_end.py``): the real local stack under load."""
