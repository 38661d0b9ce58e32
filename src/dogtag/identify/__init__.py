"""Identification built on :mod:`dogtag.genetics`: the DVI case, blind search, joint identification."""
