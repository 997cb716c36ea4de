"""The shim's route handlers: thin edges around the pure translators in ``shim.translate``."""
