"""Every registry model, imported in one place (Alembic's target metadata)."""

from dogtag.registry.commingling import Sorting, SortingStatus
from dogtag.registry.contacts import RelativeContact
from dogtag.registry.families import Consent, Family, FamilyMember
from dogtag.registry.identification import (
    AnalysisRun,
    Identification,
    IdentificationEvent,
    IdStatus,
    Notification,
)
from dogtag.registry.import_log import ImportRecord
from dogtag.registry.ledger import AuditEntry, ChainHead, CustodyEntry
from dogtag.registry.logins import LoginFailure, LoginSession
from dogtag.registry.people import (
    ACCOUNTED_FOR,
    Conflict,
    LossIncident,
    MissingPerson,
    Status,
    StatusChange,
)
from dogtag.registry.profiles import Profile, ProfileKind
from dogtag.registry.recovery import (
    Accession,
    Element,
    FieldOperation,
    Individual,
    OperationKind,
    Sample,
    Side,
    operation_incident,
)
from dogtag.registry.search_cache import SearchPair, SearchState
from dogtag.registry.users import Role, User

__all__ = [
    "ACCOUNTED_FOR", "Accession", "AnalysisRun", "AuditEntry", "ChainHead", "Conflict", "Consent",
    "CustodyEntry", "Element", "Family", "FamilyMember", "FieldOperation", "IdStatus",
    "Identification", "IdentificationEvent", "ImportRecord", "Individual", "LoginFailure", "LoginSession",
    "LossIncident", "MissingPerson", "Notification", "OperationKind", "Profile", "ProfileKind", "RelativeContact",
    "Role", "Sample", "SearchPair",
    "SearchState", "Side", "Sorting", "SortingStatus", "Status",
    "StatusChange", "User", "operation_incident",
]
