"""One router per resource."""

from dogtag.web.routes import (
    accessions,
    auth,
    dashboard,
    docs,
    identifications,
    imports,
    notifications,
    persons,
    reports,
    sorting,
)

ROUTERS = [auth.router, dashboard.router, persons.router, accessions.router, identifications.router,
           notifications.router, imports.router, reports.router, docs.router, sorting.router]
