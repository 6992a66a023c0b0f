"""preload-harness: prove partner apps are preinstalled as agreed on every Android device in a farm."""

__version__ = "0.1.0"
