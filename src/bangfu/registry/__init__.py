"""The registry: people, households, organizations, employment spells and training, and their imports."""
