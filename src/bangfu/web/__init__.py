"""The platform: a FastAPI application serving the JSON API (/api/v1) and zh-CN pages."""
