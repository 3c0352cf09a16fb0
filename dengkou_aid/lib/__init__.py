"""Domain-free tools shared by every app; nothing here imports a project app."""
