"""What is encrypted with which key: encrypted columns, per-subject keys (crypto-shredding), key rotation."""
