"""hardware_emulators."""
