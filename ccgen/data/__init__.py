"""ccgen's data tables (sounds/, evaluation/): read them with ccgen.resources.read_table.

A package, not a bare folder, so importlib.resources finds it by name and the wheel ships its
tables as package data (pyproject.toml); templates/ keeps only jinja2 templates and styles.
"""
