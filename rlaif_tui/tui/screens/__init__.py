"""Screens: dashboard, samples, rating (the app's modes), and connection, help, confirm."""
