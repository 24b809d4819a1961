"""bangfu (帮扶): employment-assistance policy as software."""

__version__ = "0.1.0"
