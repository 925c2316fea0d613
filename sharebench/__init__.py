"""sharebench: how the way a Python server shares state decides how it behaves on many cores."""
__version__ = "0.1.0"
