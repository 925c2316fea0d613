"""results/: generated runs live in this folder; these modules describe their files.

`schema` is the shape of a run (columns, flags, ids, format version) and `atomic`
how a file is written so that a reader never sees half of it. Both are leaves:
the load stage and the report import them, they import nothing of the project.
"""
