"""The actions-register form, shared by meeting mode and the actions page.

Place in the data flow: show. :func:`action_form` reads the fields of one ACT action and returns them on
submit; the page saves them through :func:`pipelines.access.save_action`, whose validation
(:func:`pipelines.act.actions.save_action`) says in words what is wrong.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.common import viewer
from pipelines.schemas import COLUMNS


def action_form(
    key: str,
    defaults: dict,
    *,
    interventions: pd.DataFrame,
    assets: pd.DataFrame,
    submit: str,
    compact: bool = False,
) -> dict | None:
    """The actions-register form (meeting mode and the register page); the entered record on submit, else None.

    ``defaults`` pre-fills it (a stored action, or an agenda item's links); validation is
    :func:`pipelines.act.actions.save_action`'s, so the page shows its message when a rule is broken.
    ``compact`` (meeting mode, beside an agenda item on one screen) keeps the decision, owner, due date and
    status in view and puts budget, blockers, links and the note one click away.
    """
    defaults = {k: None if not isinstance(v, str) and pd.isna(v) else v for k, v in defaults.items()}
    names = dict(zip(interventions[COLUMNS.intervention_id], interventions[COLUMNS.name], strict=True))
    asset_names = dict(zip(assets[COLUMNS.asset_id], assets[COLUMNS.name], strict=True))

    with st.form(key, clear_on_submit=True):
        decision = st.text_area("Decision", value=defaults.get(COLUMNS.decision) or "", height=68 if compact else 90)
        cols, owner_org, owner_person = _owner_fields(defaults, compact=compact)
        due, status = _due_and_status(cols, defaults)
        if compact:
            cols = st.expander("More: budget, blockers, links").columns(2)
        sphere, year = _budget_fields(cols, defaults)
        blocked_by = cols[0].text_input("Blocked by (if blocked)", value=defaults.get(COLUMNS.blocked_by) or "")
        unblocker = cols[1].text_input("Who can unblock it (if blocked)", value=defaults.get(COLUMNS.unblocker) or "")
        intervention, asset = _link_fields(cols, defaults, names, asset_names)
        cell = _cell_field(cols, defaults)
        note = (cols[1] if compact else st).text_input("Note for the history (why it changed)", value="")
        if not st.form_submit_button(submit, type="primary"):
            return None
    return {
        "decision": decision, "owner_org": owner_org, "owner_person": owner_person, "due": due, "status": status,
        "funding_sphere": sphere, "financial_year": year, "blocked_by": blocked_by, "unblocker": unblocker,
        "intervention_id": intervention, "asset_id": asset, "hotspot_cell": cell, "_note": note,
    }  # fmt: skip


def _pick(options: dict, value: object) -> int:
    """The index of ``value`` in a selectbox of ``[None, *options]`` (0, "none", when it is not there)."""
    keys = [None, *options]
    return keys.index(value) if value in keys else 0


def _owner_fields(defaults: dict, *, compact: bool) -> tuple[list, str, str]:
    """The action form's owner and person (one above the other when compact, else side by side) and the
    form's two columns."""
    if compact:
        owner_org = st.text_input("Owner (department or organisation)", value=defaults.get(COLUMNS.owner_org) or "")
        owner_person = st.text_input("Person responsible", value=defaults.get(COLUMNS.owner_person) or "")
        cols = st.columns(2)
    else:
        cols = st.columns(2)
        owner_org = cols[0].text_input(
            "Owner (department or organisation)", value=defaults.get(COLUMNS.owner_org) or ""
        )
        owner_person = cols[1].text_input("Person responsible", value=defaults.get(COLUMNS.owner_person) or "")
    return cols, owner_org, owner_person


def _due_and_status(cols: list, defaults: dict) -> tuple:
    """The action form's due date and status."""
    from pipelines.schemas import ACTION_STATUSES

    due_default = pd.to_datetime(defaults.get(COLUMNS.due), errors="coerce")
    due = cols[0].date_input("Due", value=None if pd.isna(due_default) else due_default.date(), format="YYYY-MM-DD")
    status = cols[1].selectbox(
        "Status", ACTION_STATUSES, index=ACTION_STATUSES.index(defaults.get(COLUMNS.status) or "open")
    )
    return due, status


def _budget_fields(cols: list, defaults: dict) -> tuple:
    """The action form's funding sphere and financial year."""
    from pipelines.schemas import FUNDING_SPHERES

    sphere = cols[0].selectbox(
        "Whose budget",
        [None, *FUNDING_SPHERES],
        index=_pick(dict.fromkeys(FUNDING_SPHERES), defaults.get(COLUMNS.funding_sphere)),
        format_func=lambda v: "not set" if v is None else v,
    )
    year = cols[1].text_input(
        "Financial year (blank: the year of the due date)", value=defaults.get(COLUMNS.financial_year) or ""
    )
    return sphere, year


def _link_fields(cols: list, defaults: dict, names: dict, asset_names: dict) -> tuple:
    """The action form's linked intervention and asset, chosen by name."""
    intervention = cols[0].selectbox(
        "Intervention",
        [None, *names],
        index=_pick(names, defaults.get(COLUMNS.intervention_id)),
        format_func=lambda v: "none" if v is None else names[v],
    )
    asset = cols[1].selectbox(
        "Asset",
        [None, *asset_names],
        index=_pick(asset_names, defaults.get(COLUMNS.asset_id)),
        format_func=lambda v: "none" if v is None else asset_names[v],
    )
    return intervention, asset


def _cell_field(cols: list, defaults: dict) -> str:
    """The action form's hot-spot cell: typed by an analyst, a caption for others when one is linked."""
    cell = defaults.get(COLUMNS.hotspot_cell) or ""
    if viewer().may("statistics"):  # an analyst may type an H3 index; nobody else sees one
        cell = cols[0].text_input("Hot spot cell (H3 index)", value=cell)
    elif cell:
        cols[0].caption("Linked to this item's hot spot (its place on the map).")
    return cell
