"""The Textual terminal UI. It talks to `RecommenderService` only, through workers and
messages, and imports the service lazily so that the first screen shows at once."""
