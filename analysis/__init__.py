"""Trajectory analyses (RDF, coordination, speciation, hydrogen bonds, transport, interfaces)."""
