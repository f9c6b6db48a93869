"""ccgen's data files (styles, sound tables, prompts, report templates); see ccgen.resources."""
