"""Schakel's command line and process wiring: settings → adapters / streams. Nothing imports
this package back."""

__version__ = "0.1.0"
