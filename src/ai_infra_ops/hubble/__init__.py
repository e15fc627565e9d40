"""hubble."""
