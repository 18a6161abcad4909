"""The bundled demo: a small review site, served on loopback for ``reviewarc demo``."""
