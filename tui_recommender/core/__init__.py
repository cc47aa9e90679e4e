"""Plain rules every layer may use: errors, ids, the rating scale, list names, titles, text in
messages, private files."""
