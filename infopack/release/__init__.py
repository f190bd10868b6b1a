"""Release: the card manifest, its seal (hashes, signatures), keys and the trust policy."""
