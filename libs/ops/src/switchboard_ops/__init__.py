"""Operations on a region: encrypted backups and restores (``python -m switchboard_ops backup|restore``)."""
