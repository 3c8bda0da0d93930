"""Box and slab builders (packmol, ASE) and topology assembly."""
