"""Checkpoints: the state of an engine (and of the partition around it) as one versioned
document of plain data.

Version 2 stores no object of ours, only named fields (``document.py`` for the encoding,
``schema.py`` for the fields): renaming an attribute or moving a class cannot make a
checkpoint unreadable, and a change of the fields themselves is a new version. Version 1
(pickled objects) is still read once, by ``v1.py``, and turned into version 2.
"""
