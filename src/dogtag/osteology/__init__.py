"""Commingled remains: inventories, MNI, osteometric sorting into individuals."""
