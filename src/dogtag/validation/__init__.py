"""The validation study outside the model (``dogtag validate``): :mod:`dogtag.validation.study`."""
