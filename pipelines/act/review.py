"""The ACT review page's month: one neighbourhood's numbers, hot spots, interventions and reports.

Place in the data flow: show. :func:`month_review` reads nothing: it takes the agenda the page already holds
(:mod:`pipelines.act.agenda`), the neighbourhood's incidents as the viewer may see them and its hot-spot
cells, and returns a :class:`MonthReview` of display-ready tables. The category counts and the
interventions needing attention are the agenda's items as the pack shows them
(:func:`pipelines.act.pack.agenda_section`), so the review, meeting mode and the pack show the same rows and
one rule for "overdue".
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from pipelines import views
from pipelines.act.agenda import Agenda, AgendaItem
from pipelines.act.pack import Section, agenda_section
from pipelines.schemas import COLUMNS

#: The categories the review lists beside the month's numbers; the download holds them all.
CATEGORY_ROWS = 11
#: The community reports the review lists; the download holds them all.
REPORT_ROWS = 15


def first_item(agenda: Agenda, kind: str) -> AgendaItem | None:
    """The agenda's first item of ``kind`` (one of :data:`pipelines.act.agenda.ITEM_KINDS`), or ``None``."""
    return next((item for item in agenda.items if item.kind == kind), None)


@dataclass(frozen=True, eq=False)
class MonthReview:
    """One neighbourhood's meeting month as the ACT review page shows it.

    Attributes
    ----------
    kpis : pipelines.views.Kpis
        The month against the months before (:func:`pipelines.views.profile_kpis`).
    by_category, interventions : pipelines.act.pack.Section
        The agenda's ``counts`` and ``interventions`` items, as the pack shows them.
    hotspots : pandas.DataFrame
        :func:`pipelines.views.hotspot_summary` of the neighbourhood's cells.
    hotspot_titles : tuple of str
        The agenda's hot spots that have a place, by the names meeting mode gives them.
    reports : pandas.DataFrame
        The month's community reports, headed for people (:func:`pipelines.views.for_people`).
    """

    kpis: views.Kpis
    by_category: Section
    interventions: Section
    hotspots: pd.DataFrame
    hotspot_titles: tuple[str, ...]
    reports: pd.DataFrame

    @property
    def category_table(self) -> pd.DataFrame:
        """The first :data:`CATEGORY_ROWS` categories, named down the left."""
        return views.first_column_as_index(self.by_category.table, head=CATEGORY_ROWS)

    @property
    def report_table(self) -> pd.DataFrame:
        """The first :data:`REPORT_ROWS` community reports."""
        return self.reports.head(REPORT_ROWS)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table the review shows, whole, by the layer names of its download."""
        return {
            "by_category": self.by_category.table,
            "hot_spots": self.hotspots,
            "interventions_needing_attention": self.interventions.table,
            "community_reports": self.reports,
        }


def month_review(
    agenda: Agenda, incidents: pd.DataFrame, *, month: pd.Period, population: float | None, cells: pd.DataFrame
) -> MonthReview:
    """The review of ``agenda``'s neighbourhood in ``month`` from its ``incidents`` (every month, as the viewer
    may see them), its residents and its hot-spot ``cells`` (:func:`pipelines.hotspots.hotspots_for_neighbourhood`)."""
    titles = tuple(i.title for i in agenda.items if i.kind == "hotspot" and i.links.get(COLUMNS.hotspot_cell))
    return MonthReview(
        kpis=views.profile_kpis(incidents, month=month, population=population),
        by_category=agenda_section("", first_item(agenda, "counts"), agenda),
        interventions=agenda_section("", first_item(agenda, "interventions"), agenda),
        hotspots=views.hotspot_summary(cells),
        hotspot_titles=titles,
        reports=views.for_people(views.new_community_reports(incidents, month=month)),
    )
