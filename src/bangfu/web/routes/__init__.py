"""Routers: the JSON API (``api``) and the pages (``pages``, ``public``)."""
