"""dogtag: accounting for the missing.

The registry of the missing, the recovery of remains with their chain of
custody, and DNA-led identification (kinship likelihood ratios, blind search,
joint identification) in one open system.
"""

__version__ = "0.1.0"
