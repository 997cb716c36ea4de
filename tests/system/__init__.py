"""Tests that run both servers together: load smoke, fuzzing of both, the README's tables."""
