"""A synthetic but realistic Korean War accounting scenario, its identification run and calibration.

:mod:`.incidents` holds the loss incidents (real battles, THOR air losses), :mod:`.generate` the
seeded generator that writes the registry's import files and the truth, :mod:`.pipeline` the
identification run on them, :mod:`.calibration` the comparison with the truth.
"""
