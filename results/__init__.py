"""results/: generated runs live in this folder; these modules own their format.

`record` is the cell record (each field once: type, unit, meaning), `schema` the
shape of a run around it (columns derived from the record, flags, format version
and migration), `ids` a cell's id, `hdr` the histograms' layout, `read` and
`store` reading and writing a run, `atomic` how a file is written so that a reader
never sees half of it. They import nothing of the project outside results/: the
load stage writes through them, the report reads through them.
"""
