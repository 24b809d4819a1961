"""Core reference logic shared by every layer: citizen ID numbers and administrative regions."""
