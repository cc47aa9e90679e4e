"""MovieLens datasets: layouts, loaders and downloads (read-only; never the user's ratings)."""
