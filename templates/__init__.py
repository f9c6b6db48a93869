"""ccgen's jinja2 templates: prompts, report page, model card, style presets; see ccgen.resources.

Data tables live in ccgen/data/, not here.
"""
