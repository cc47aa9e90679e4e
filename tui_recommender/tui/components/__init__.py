"""Screens and widgets of the TUI, one module each."""
