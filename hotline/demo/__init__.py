"""A demo city for trying the platform: agencies, users, and tickets in every state."""
