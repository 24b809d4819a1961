"""Accounts of the platform: password hashing, users with a role and a region, sign-in and sessions."""
