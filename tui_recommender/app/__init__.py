"""The recommender service and what it composes: the one front the CLI and the TUI talk to."""
