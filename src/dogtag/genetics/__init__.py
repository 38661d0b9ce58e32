"""The numeric core: markers, frequencies, mutation models, pedigrees, likelihoods.

Imports nothing of dogtag's but :mod:`dogtag.errors`.
"""
