"""The Area Coordinating Team's monthly meeting: actions register, budget cycles, agenda and meeting pack.

Place in the data flow: analyse and show. Everything here reads the store through the
:class:`~pipelines.store.base.Store` interface only (``read_table``, ``read_incidents``, ``save``), so it
works the same on the GeoPackage and the PostGIS store. See ``docs/act.md``.

- :mod:`.finance`: financial years of the municipal (July-June) and national/provincial (April-March)
  budgets, budget cycles and deadlines.
- :mod:`.actions`: the actions register, validated and saved with its full history.
- :mod:`.agenda`: the agenda for a neighbourhood and month, built from the data (a package: context, one
  module per item, wording). What the public may see of it is decided by :mod:`pipelines.privacy`.
- :mod:`.review`: the ACT review page's month, from the agenda.
- :mod:`.figures`: the map and trend charts (matplotlib, printable in black and white).
- :mod:`.pack`: the meeting pack as a self-contained HTML file and a PDF (sections, HTML, PDF).
"""
