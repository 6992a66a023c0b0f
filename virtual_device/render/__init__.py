"""Per-Android-version output formats of the virtual device (rendering beside the real samples they imitate)."""
