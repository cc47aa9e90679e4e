"""Plain rules every layer may use: errors, ids, the rating scale, list names, titles, private files."""
