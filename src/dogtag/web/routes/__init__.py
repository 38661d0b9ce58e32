"""One router per resource."""

from dogtag.web.routes import (
    accessions,
    auth,
    dashboard,
    docs,
    identifications,
    imports,
    maps,
    notifications,
    persons,
    reports,
    sorting,
    users,
)

ROUTERS = [auth.router, dashboard.router, persons.router, accessions.router, identifications.router,
           notifications.router, imports.router, reports.router, users.router, docs.router, sorting.router,
           maps.router]
