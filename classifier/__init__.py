"""Chinese call classifier (police / non-police and category). Imports nothing from hotline."""
