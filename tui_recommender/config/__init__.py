"""Configuration resolved once: command-line flags > environment > the user's config file > defaults."""
