"""The user's own data: the ratings database, its export files, imports from elsewhere, lists."""
