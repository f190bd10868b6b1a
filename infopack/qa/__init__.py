"""QA: verifying cards against their signed manifests, and repairing returned cards."""
