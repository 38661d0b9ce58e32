"""The one identification pipeline: registry -> individuals -> evidence -> joint identification with
open-world priors -> proposals with provenance. ``dogtag search``, ``dogtag demo`` and the workbench
call :func:`dogtag.analysis.search.search_registry`.

- :mod:`dogtag.analysis.individuals`: samples grouped into individuals, conflicts reported;
- :mod:`dogtag.analysis.priors`: the open-world prior shaped by context (docs/priors.md);
- :mod:`dogtag.analysis.decide`: candidates, joint identification, decisions with reasons;
- :mod:`dogtag.analysis.search`: read the registry, compute, write proposals (one transaction).

Nothing here is imported by :mod:`dogtag.registry` (imports point inward).
"""
